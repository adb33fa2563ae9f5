//! Reading a budgets file: TOML through `toml`'s spanned document, then our own checks, so
//! every error can name the key, the pattern, the line and the column.

use std::path::Path;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{BudgetError, BudgetKey, Budgets, Rule};
use crate::glob::Glob;

/// The keys a table of limits accepts, as the error for an unknown key lists them.
const KEYS: &str = "p50, p95, p99, max, error_rate, bytes_per_call, allocs_per_call, \
                    min_calls_per_sec, min_calls";

/// Line and column (from 1, columns in characters) of byte `offset` of `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Parses a duration with a unit: `100ns`, `800us`, `800µs`, `200ms`, `1.5s`, `2m`, `1h`.
///
/// Digits may carry a fraction; anything finer than a nanosecond is dropped.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = (&s[..split], s[split..].trim_start());
    if number.is_empty() {
        return Err(if s.starts_with('-') {
            "a duration cannot be negative".to_owned()
        } else {
            format!("expected a number and a unit such as \"200ms\", got \"{text}\"")
        });
    }
    let scale: u128 = match unit {
        "" => {
            return Err(format!(
                "\"{text}\" has no unit; add one: ns, us (or µs), ms, s, m or h, e.g. \"{number}ms\""
            ));
        }
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => {
            return Err(format!(
                "unknown unit \"{other}\" in \"{text}\"; use ns, us (or µs), ms, s, m or h"
            ));
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(format!("\"{number}\" is not a number"));
    }
    let too_long = || format!("\"{text}\" is too long a duration");
    let mut ns =
        whole.parse::<u128>().ok().and_then(|w| w.checked_mul(scale)).ok_or_else(too_long)?;
    // The fraction, digit by digit, exactly: keep the digits that still count at this scale.
    let mut place = scale;
    for d in fraction.bytes() {
        place /= 10;
        ns += u128::from(d - b'0') * place;
    }
    u64::try_from(ns).map(Duration::from_nanos).map_err(|_| too_long())
}

struct Ctx<'a> {
    text: &'a str,
    path: Option<&'a Path>,
}

impl Ctx<'_> {
    fn at(&self, span: &std::ops::Range<usize>) -> (usize, usize) {
        line_column(self.text, span.start)
    }

    fn invalid(
        &self,
        pattern: &str,
        key: &str,
        span: &std::ops::Range<usize>,
        reason: String,
    ) -> BudgetError {
        let (line, column) = self.at(span);
        BudgetError::InvalidValue {
            path: self.path.map(Into::into),
            pattern: pattern.to_owned(),
            key: key.to_owned(),
            line,
            column,
            reason,
        }
    }

    fn unknown(
        &self,
        table: &str,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        expected: &str,
    ) -> BudgetError {
        let (line, column) = self.at(&key.span());
        BudgetError::UnknownKey {
            path: self.path.map(Into::into),
            table: table.to_owned(),
            key: key.get_ref().to_string(),
            line,
            column,
            expected: expected.to_owned(),
        }
    }
}

fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            i64::from_str_radix(&digits, i.radix()).ok().map(|n| n as f64)
        }
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// One table of limits (`[defaults]` or `[functions."pattern"]`).
fn limits(
    ctx: &Ctx<'_>,
    pattern: &str,
    label: &str,
    table: &DeTable<'_>,
) -> Result<Rule, BudgetError> {
    let mut rule = Rule {
        pattern: pattern.to_owned(),
        glob: Glob::new(pattern),
        limits: Vec::new(),
        min_calls: None,
    };
    for (key, value) in in_file_order(table) {
        let name = key.get_ref().as_ref();
        let span = value.span();
        let v = value.get_ref();
        let bad = |reason: String| ctx.invalid(pattern, name, &span, reason);
        if name == "min_calls" {
            let n = number(v).filter(|n| v.is_integer() && *n >= 0.0).ok_or_else(|| {
                bad(format!("expected a whole number of calls (0 or more), got {}", show(v)))
            })?;
            rule.min_calls = Some(n as u64);
            continue;
        }
        let Some(key) = BudgetKey::ALL.iter().copied().find(|k| k.name() == name) else {
            return Err(ctx.unknown(label, key, KEYS));
        };
        let limit = if key.is_duration() {
            match v {
                DeValue::String(s) => duration(s).map_err(bad)?.as_nanos() as f64,
                DeValue::Integer(_) | DeValue::Float(_) => {
                    return Err(bad(format!(
                        "{} has no unit; write it as a string with one, e.g. \"{}ms\"",
                        show(v),
                        show(v)
                    )));
                }
                _ => {
                    return Err(bad(format!(
                        "expected a duration such as \"200ms\", got {}",
                        show(v)
                    )));
                }
            }
        } else {
            let n = number(v).ok_or_else(|| bad(format!("expected a number, got {}", show(v))))?;
            if !n.is_finite() || n < 0.0 {
                return Err(bad(format!("must be a finite number, 0 or more, got {n}")));
            }
            if key == BudgetKey::ErrorRate && n > 1.0 {
                return Err(bad(format!(
                    "is a fraction of calls between 0 and 1 (0.001 is 0.1%), got {n}"
                )));
            }
            n
        };
        rule.limits.push((key, limit));
    }
    Ok(rule)
}

/// A table's entries in the order the file writes them (the map sorts them by key).
fn in_file_order<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn show(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("\"{s}\""),
        DeValue::Integer(i) => i.as_str().to_owned(),
        DeValue::Float(f) => f.as_str().to_owned(),
        DeValue::Boolean(b) => b.to_string(),
        other => format!("a {}", other.type_str()),
    }
}

fn table<'a, 'i>(
    ctx: &Ctx<'_>,
    pattern: &str,
    key: &str,
    value: &'a Spanned<DeValue<'i>>,
) -> Result<&'a DeTable<'i>, BudgetError> {
    value.get_ref().as_table().ok_or_else(|| {
        ctx.invalid(
            pattern,
            key,
            &value.span(),
            format!("expected a table, got {}", show(value.get_ref())),
        )
    })
}

pub(crate) fn budgets(text: &str, path: Option<&Path>) -> Result<Budgets, BudgetError> {
    let ctx = Ctx { text, path };
    let doc = DeTable::parse(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
        BudgetError::Syntax {
            path: path.map(Into::into),
            line,
            column,
            message: e.message().trim_end_matches('\n').to_owned(),
        }
    })?;
    let mut out = Budgets { defaults: None, rules: Vec::new() };
    for (key, value) in doc.get_ref() {
        match key.get_ref().as_ref() {
            "defaults" => {
                let t = table(&ctx, "[defaults]", "defaults", value)?;
                out.defaults = Some(limits(&ctx, super::DEFAULTS, "[defaults]", t)?);
            }
            "functions" => {
                for (pattern, value) in in_file_order(table(&ctx, "", "functions", value)?) {
                    let p = pattern.get_ref().as_ref();
                    if p.is_empty() {
                        return Err(ctx.invalid(
                            p,
                            "functions",
                            &pattern.span(),
                            "a function pattern cannot be empty; name a function or write a \
                             glob such as \"*\""
                                .into(),
                        ));
                    }
                    let label = format!("[functions.\"{p}\"]");
                    out.rules.push(limits(&ctx, p, &label, table(&ctx, p, p, value)?)?);
                }
            }
            _ => return Err(ctx.unknown("the top level", key, "defaults, functions")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::{duration, line_column};

    #[test]
    fn every_unit() {
        let ns = |s: &str| duration(s).map(|d| d.as_nanos());
        assert_eq!(ns("100ns"), Ok(100));
        assert_eq!(ns("800us"), Ok(800_000));
        assert_eq!(ns("800µs"), Ok(800_000));
        assert_eq!(ns("800μs"), Ok(800_000)); // Greek mu
        assert_eq!(ns("200ms"), Ok(200_000_000));
        assert_eq!(ns("1.5s"), Ok(1_500_000_000));
        assert_eq!(ns("2m"), Ok(120_000_000_000));
        assert_eq!(ns("1h"), Ok(3_600_000_000_000));
        assert_eq!(ns(" 0.25 ms "), Ok(250_000));
        assert_eq!(ns("1.0000000005s"), Ok(1_000_000_000), "finer than 1 ns is dropped");
        assert_eq!(ns("0ns"), Ok(0));
    }

    #[test]
    fn bad_durations_say_why() {
        let e = |s: &str| duration(s).unwrap_err();
        assert!(e("200").contains("no unit"), "{}", e("200"));
        assert!(e("200").contains("\"200ms\""));
        assert!(e("200 parsecs").contains("unknown unit \"parsecs\""));
        assert!(e("-5ms").contains("negative"));
        assert!(e("ms").contains("expected a number"));
        assert!(e("1.2.3s").contains("not a number"));
        assert!(e(".5s").contains("not a number"));
        assert!(e("5.s").contains("not a number"));
        assert!(e("99999999999999999999h").contains("too long"));
        assert!(e("").contains("expected a number"));
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("a\nbµc", 5), (2, 3));
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    fn format(d: Duration, unit: usize) -> String {
        let ns = d.as_nanos();
        let (name, scale) =
            [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]
                [unit];
        let (whole, rest) = (ns / scale, ns % scale);
        if rest == 0 {
            format!("{whole}{name}")
        } else {
            let width = scale.ilog10() as usize;
            format!("{whole}.{rest:0width$}{name}")
        }
    }

    proptest! {
        #[test]
        fn formatted_durations_read_back(ns in 0u64..=u64::MAX, unit in 0usize..5) {
            let d = Duration::from_nanos(ns);
            let text = format(d, unit);
            prop_assert_eq!(duration(&text), Ok(d), "{}", text);
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = duration(&s);
        }

        #[test]
        fn never_panics_near_valid(n in "[0-9.]{0,25}", u in "(ns|us|µs|ms|s|m|h|x|)") {
            let _ = duration(&format!("{n}{u}"));
        }
    }
}
