//! Human-readable figures for the dashboard: durations, counts, rates, shares, bytes.

/// A duration in nanoseconds with three significant digits and a unit (`ns`, `µs`, `ms`,
/// `s`): `950ns`, `1.23µs`, `12.3ms`, `4.56s`. At most 6 characters below 1000 s.
pub(crate) fn duration_ns(ns: u64) -> String {
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    let (value, unit) = match ns {
        1_000..1_000_000 => (ns as f64 / 1e3, "µs"),
        1_000_000..1_000_000_000 => (ns as f64 / 1e6, "ms"),
        _ => (ns as f64 / 1e9, "s"),
    };
    format!("{}{unit}", three_digits(value))
}

/// A value in 1..1000 (or more, for seconds) with three significant digits.
fn three_digits(v: f64) -> String {
    // Round first, so 9.996 prints as "10.0" rather than "10.00".
    if v < 9.995 {
        format!("{v:.2}")
    } else if v < 99.95 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A count: exact below 100,000, then `123k`, `1.23M`, `4.56G`, `7.89T`.
pub(crate) fn count(n: u64) -> String {
    match n {
        ..100_000 => n.to_string(),
        100_000..1_000_000 => format!("{}k", three_digits(n as f64 / 1e3)),
        1_000_000..1_000_000_000 => format!("{}M", three_digits(n as f64 / 1e6)),
        1_000_000_000..1_000_000_000_000 => format!("{}G", three_digits(n as f64 / 1e9)),
        _ => format!("{}T", three_digits(n as f64 / 1e12)),
    }
}

/// A rate per second: `0.50`, `12.5`, `950`, `12.3k`; `-` when unknown.
pub(crate) fn rate(r: Option<f64>) -> String {
    match r {
        None => "-".to_owned(),
        Some(r) if !r.is_finite() || r < 0.0 => "-".to_owned(),
        Some(r) if r < 1_000.0 => three_digits_or_zero(r),
        Some(r) if r < 1e6 => format!("{}k", three_digits(r / 1e3)),
        Some(r) => format!("{}M", three_digits(r / 1e6)),
    }
}

fn three_digits_or_zero(r: f64) -> String {
    if r == 0.0 { "0".to_owned() } else { three_digits(r) }
}

/// A share 0..=1 as a percentage with one decimal: `42.0%`.
pub(crate) fn percent(share: f64) -> String {
    if share.is_finite() { format!("{:.1}%", share * 100.0) } else { "-".to_owned() }
}

/// Bytes in binary units: `512B`, `1.50KiB`, `3.10GiB`.
pub(crate) fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if !b.is_finite() || b < 0.0 {
        return "-".to_owned();
    }
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{v:.0}B") } else { format!("{}{}", three_digits(v), UNITS[unit]) }
}

/// A window length: `850ms`, `12.0s`, `3m05s`, `2h04m`.
pub(crate) fn window(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        return duration_ns(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }
    if secs < 3600 {
        return format!("{}m{:02}s", secs / 60, secs % 60);
    }
    format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_pick_a_unit_and_three_digits() {
        assert_eq!(duration_ns(0), "0ns");
        assert_eq!(duration_ns(950), "950ns");
        assert_eq!(duration_ns(1_234), "1.23µs");
        assert_eq!(duration_ns(12_340), "12.3µs");
        assert_eq!(duration_ns(123_400), "123µs");
        assert_eq!(duration_ns(999_999), "1000µs");
        assert_eq!(duration_ns(1_500_000), "1.50ms");
        assert_eq!(duration_ns(2_000_000_000), "2.00s");
        assert_eq!(duration_ns(9_996), "10.0µs");
    }

    #[test]
    fn counts_rates_shares_bytes() {
        assert_eq!(count(99_999), "99999");
        assert_eq!(count(123_456), "123k");
        assert_eq!(count(1_234_567), "1.23M");
        assert_eq!(rate(None), "-");
        assert_eq!(rate(Some(0.0)), "0");
        assert_eq!(rate(Some(0.5)), "0.50");
        assert_eq!(rate(Some(950.0)), "950");
        assert_eq!(rate(Some(12_345.0)), "12.3k");
        assert_eq!(rate(Some(f64::NAN)), "-");
        assert_eq!(percent(0.42), "42.0%");
        assert_eq!(bytes(512.0), "512B");
        assert_eq!(bytes(1536.0), "1.50KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.00GiB");
        assert_eq!(window(std::time::Duration::from_secs(185)), "3m05s");
        assert_eq!(window(std::time::Duration::from_millis(1500)), "1.50s");
    }

    proptest! {
        #[test]
        fn durations_are_short_and_never_panic(ns in any::<u64>()) {
            let s = duration_ns(ns);
            if ns < 1_000_000_000_000 {
                prop_assert!(s.chars().count() <= 6, "{s}");
            }
        }

        #[test]
        fn counts_are_short(n in any::<u64>()) {
            prop_assert!(count(n).len() <= 9, "{}", count(n));
        }
    }
}
