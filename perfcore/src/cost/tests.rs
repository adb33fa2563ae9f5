//! Tests of the cost monitor on the real FOCUS sample and on files made from it.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use super::*;

pub(crate) const SAMPLE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/focus/focus_sample.csv");

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A fresh directory of its own (tests and proptest cases run in parallel).
pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("perfcore-cost-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn sample_text() -> String {
    std::fs::read_to_string(SAMPLE).unwrap()
}

/// The sample's header and its data lines (no quoted newlines in the sample).
fn sample_lines() -> (String, Vec<String>) {
    let text = sample_text();
    let mut lines = text.lines().map(str::to_owned);
    let header = lines.next().unwrap();
    (header, lines.filter(|l| !l.is_empty()).collect())
}

fn all() -> Period {
    Period::all()
}

#[test]
fn the_sample_imports_whole_with_its_quirks_reported() {
    let mut m = CostMonitor::new().unwrap();
    let s = m.import(SAMPLE, &ImportOptions::default()).unwrap();
    assert_eq!((s.rows_read, s.rows_imported, s.rows_skipped), (1000, 1000, 0), "{}", s.describe());
    assert_eq!(s.focus_version, "1.0");
    assert_eq!(s.billed.total(None).unwrap(), Money::new(dec("20.52022672899"), Currency::USD));
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899"));
    assert!(
        s.normalised.iter().any(|n| n.column == "ChargeFrequency"
            && n.from == "Usage-based"
            && n.to == "Usage-Based"
            && n.rows == 7),
        "{:?}",
        s.normalised
    );
    assert_eq!(s.nulls.get("ContractedCost"), Some(&7), "{:?}", s.nulls);
    assert_eq!(s.nulls.get("ResourceId"), Some(&75), "{:?}", s.nulls);
    let id = s.extra_columns.iter().find(|c| c.name == "Id").unwrap();
    assert!(!id.spec && id.non_null_rows == 1000);
    assert!(s.extra_columns.iter().any(|c| c.name == "SkuId" && c.spec));
    assert!(s.describe().contains("1000 imported"), "{}", s.describe());
}

#[test]
fn the_same_file_twice_adds_nothing_and_says_so() {
    let dir = temp_dir("twice");
    let mut m = CostMonitor::open(&dir).unwrap();
    m.import(SAMPLE, &ImportOptions::default()).unwrap();
    let again = m.import(SAMPLE, &ImportOptions::default()).unwrap();
    assert!(matches!(again.outcome, ImportOutcome::AlreadyImported { .. }), "{:?}", again.outcome);
    assert!(again.describe().contains("already imported"), "{}", again.describe());
    // A second process (another connection) sees the same state.
    let other = CostMonitor::open(&dir).unwrap();
    assert_eq!(other.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899"));
    assert_eq!(other.imports().unwrap().len(), 1);
}

#[test]
fn a_new_delivery_of_a_period_is_refused_unless_it_replaces_it() {
    let dir = temp_dir("redelivery");
    let (header, lines) = sample_lines();
    let mut m = CostMonitor::open(&dir).unwrap();
    m.import(SAMPLE, &ImportOptions::default()).unwrap();
    // The same month delivered again with one row fewer: a different file.
    let fewer = write(&dir, "again.csv", format!("{header}\n{}\n", lines[1..].join("\n")));
    let err = m.import(&fewer, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, CostError::PeriodAlreadyImported { .. }), "{err}");
    assert!(err.to_string().contains("--replace"), "{err}");
    let s = m.import(&fewer, &ImportOptions::default().mode(ImportMode::Replace)).unwrap();
    let ImportOutcome::Replaced { previous_billed, .. } = &s.outcome else {
        panic!("{:?}", s.outcome)
    };
    assert_eq!(previous_billed.total(None).unwrap().amount, dec("20.52022672899"));
    let first: Decimal = dec(lines[0].split(',').nth(1).unwrap());
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899") - first);
}

#[test]
fn parts_of_one_delivery_import_together() {
    let dir = temp_dir("parts");
    let (header, lines) = sample_lines();
    let a = write(&dir, "part-1.csv", format!("{header}\n{}\n", lines[..400].join("\n")));
    let b = write(&dir, "part-2.csv", format!("{header}\n{}\n", lines[400..].join("\n")));
    let mut split = CostMonitor::new().unwrap();
    split.import_all(&[&a, &b], &ImportOptions::default()).unwrap();
    let mut whole = CostMonitor::new().unwrap();
    whole.import(SAMPLE, &ImportOptions::default()).unwrap();
    for dims in [
        vec![Dimension::Day, Dimension::Service],
        vec![Dimension::Provider],
        vec![Dimension::Resource],
    ] {
        assert_eq!(
            split.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows,
            whole.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows
        );
    }
    // Given one at a time, the second part is refused (it could be a re-delivery)…
    let mut one_by_one = CostMonitor::new().unwrap();
    one_by_one.import(&a, &ImportOptions::default()).unwrap();
    assert!(one_by_one.import(&b, &ImportOptions::default()).is_err());
    // …unless it says it is another part.
    one_by_one.import(&b, &ImportOptions::default().mode(ImportMode::Append)).unwrap();
    assert_eq!(one_by_one.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899"));
}

#[test]
fn strict_mode_stops_at_the_first_bad_row_and_writes_nothing() {
    let dir = temp_dir("strict");
    let (header, mut lines) = sample_lines();
    lines[4] = lines[4].replacen(",\"USD\",", ",\"US Dollars\",", 1);
    let bad = write(&dir, "bad.csv", format!("{header}\n{}\n", lines.join("\n")));
    let mut m = CostMonitor::new().unwrap();
    let err = m.import(&bad, &ImportOptions::default().strict(true)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:6: column BillingCurrency: \"US Dollars\" is not a three-letter currency code",
            bad.display()
        )
    );
    assert!(m.imports().unwrap().is_empty());
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap().amount, Decimal::ZERO);
    // Lenient: the row is skipped, listed, and its cost accounted for.
    let s = m.import(&bad, &ImportOptions::default()).unwrap();
    assert_eq!((s.rows_imported, s.rows_skipped), (999, 1));
    let skipped = &s.skipped[0];
    assert_eq!((skipped.line, skipped.column.as_str()), (6, "BillingCurrency"));
    assert_eq!(skipped.billed_cost, None, "the currency is what is unreadable");
    assert_eq!(s.skipped_unreadable_cost, 1);
}

#[test]
fn line_numbers_hold_across_blocks_and_threads() {
    let dir = temp_dir("lines");
    let (header, mut lines) = sample_lines();
    // A quoted newline early on shifts every later line by one.
    lines[3] = lines[3].replacen("\"Usage\"", "\"Us\nage\"", 1);
    for i in [500, 900, 998] {
        lines[i] = lines[i].replacen(",\"USD\",", ",\"??\",", 1);
    }
    let p = write(&dir, "lines.csv", format!("{header}\n{}\n", lines.join("\n")));
    let mut m = CostMonitor::new().unwrap();
    let s = m.import(&p, &ImportOptions::default()).unwrap();
    let at: Vec<u64> = s.skipped.iter().map(|r| r.line).collect();
    // Row i is on line i + 2, one more after the quoted newline.
    assert_eq!(at, [503, 903, 1001]);
    assert_eq!(s.skipped[0].column, "BillingCurrency");
    let err = m.import(&p, &ImportOptions::default().strict(true)).unwrap_err();
    assert!(err.to_string().contains(":503: column BillingCurrency"), "{err}");
    // The same with CRLF line ends (the csv crate's own line count drifts there).
    let p = write(&dir, "crlf.csv", format!("{header}\r\n{}\r\n", lines.join("\r\n")));
    let s = CostMonitor::new().unwrap().import(&p, &ImportOptions::default()).unwrap();
    assert_eq!(s.skipped.iter().map(|r| r.line).collect::<Vec<_>>(), [503, 903, 1001]);
}

#[test]
fn malformed_files_get_errors_that_say_where() {
    let dir = temp_dir("malformed");
    let (header, lines) = sample_lines();
    let body = lines[..20].join("\n");
    // A missing mandatory column.
    let no_cost = header.replace("\"BilledCost\"", "\"Billed\"");
    let p = write(&dir, "missing.csv", format!("{no_cost}\n{body}\n"));
    let err = CostMonitor::new().unwrap().import(&p, &ImportOptions::default()).unwrap_err();
    assert!(
        matches!(&err, CostError::MissingColumns { names, .. } if names == &["BilledCost"]),
        "{err}"
    );
    assert!(err.to_string().contains("missing the mandatory column BilledCost"), "{err}");
    // A bad date, a non-numeric cost, each with line and column.
    for (from, to, column, line) in [
        ("\"2024-09-18 22:00:00\"", "\"2024-09-31 22:00:00\"", "ChargePeriodStart", 2),
        ("0.00000080000", "0.0.8", "BilledCost", 2),
    ] {
        let mut ls = lines[..20].to_vec();
        ls[0] = ls[0].replacen(from, to, 1);
        let p = write(&dir, "bad.csv", format!("{header}\n{}\n", ls.join("\n")));
        let err = CostMonitor::new()
            .unwrap()
            .import(&p, &ImportOptions::default().strict(true))
            .unwrap_err();
        let CostError::Row { line: l, column: c, value, .. } = &err else { panic!("{err}") };
        assert_eq!((*l, c.as_str(), value.as_str()), (line, column, to.trim_matches('"')), "{err}");
    }
    // A BOM and CRLF line ends change nothing.
    let crlf = format!("\u{feff}{header}\r\n{}\r\n", lines.join("\r\n"));
    let p = write(&dir, "bom.csv", crlf);
    let s = CostMonitor::new().unwrap().import(&p, &ImportOptions::default().strict(true)).unwrap();
    assert_eq!(s.billed.total(None).unwrap().amount, dec("20.52022672899"));
    // A quoted newline inside a field is one row; line numbers count from where rows start.
    let mut ls = lines[..3].to_vec();
    ls[0] = ls[0].replacen("\"$0.40 per million", "\"$0.40 per\nmillion", 1);
    ls[2] = ls[2].replacen(",\"USD\",", ",\"??\",", 1);
    let p = write(&dir, "newline.csv", format!("{header}\n{}\n", ls.join("\n")));
    let s = CostMonitor::new().unwrap().import(&p, &ImportOptions::default()).unwrap();
    assert_eq!((s.rows_read, s.rows_skipped), (3, 1));
    assert_eq!(s.skipped[0].line, 5, "header 1, a row on 2–3, then 4, then 5");
    // A truncated last line is a row error naming the first missing column.
    let cut = &lines[1][..lines[1].len() / 2];
    let p = write(&dir, "cut.csv", format!("{header}\n{}\n{cut}", lines[0]));
    let err =
        CostMonitor::new().unwrap().import(&p, &ImportOptions::default().strict(true)).unwrap_err();
    assert!(
        err.to_string().contains(":3: column ") && err.to_string().contains("the row ends early"),
        "{err}"
    );
    // Not CSV at all.
    let p = write(&dir, "empty.csv", "");
    assert!(
        CostMonitor::new()
            .unwrap()
            .import(&p, &ImportOptions::default())
            .unwrap_err()
            .to_string()
            .contains("no header")
    );
}

#[test]
fn gzip_is_detected_by_its_bytes_and_reads_the_same() {
    use std::io::Write as _;
    let dir = temp_dir("gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(sample_text().as_bytes()).unwrap();
    let p = write(&dir, "export.data", gz.finish().unwrap());
    let mut m = CostMonitor::new().unwrap();
    let s = m.import(&p, &ImportOptions::default()).unwrap();
    assert_eq!(s.format, "csv.gz");
    assert_eq!(s.billed.total(None).unwrap().amount, dec("20.52022672899"));
}

#[test]
fn currencies_never_mix_without_rates() {
    let dir = temp_dir("currency");
    let (header, mut lines) = sample_lines();
    for l in lines.iter_mut().take(10) {
        *l = l.replacen(",\"USD\",", ",\"eur\",", 1);
    }
    let p = write(&dir, "eur.csv", format!("{header}\n{}\n", lines.join("\n")));
    let mut m = CostMonitor::new().unwrap();
    let s = m.import(&p, &ImportOptions::default()).unwrap();
    assert_eq!(s.billed.by_currency.len(), 2);
    assert!(matches!(m.total(all(), CostMetric::Billed), Err(CostError::MixedCurrency { .. })));
    let by = m.breakdown(all(), &[Dimension::Currency], CostMetric::Billed).unwrap();
    assert_eq!(by.rows.iter().map(|r| r.keys[0].as_str()).collect::<Vec<_>>().len(), 2);
    m.set_exchange_rates(Some(
        ExchangeRates::new(Currency::USD).with_rate(Currency::EUR, Decimal::ONE),
    ));
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899"));
}

#[test]
fn a_store_from_a_newer_perfcore_is_refused() {
    let dir = temp_dir("newer");
    drop(CostMonitor::open(&dir).unwrap());
    let conn = rusqlite::Connection::open(dir.join(STORE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = CostMonitor::open(&dir).unwrap_err();
    assert!(
        err.to_string().contains("schema version 99")
            && err.to_string().contains("upgrade perfcore"),
        "{err}"
    );
}

#[test]
fn breakdowns_by_tag_and_kept_column() {
    let dir = temp_dir("tags");
    let (header, lines) = sample_lines();
    let p = write(&dir, "x.csv", format!("{header}\n{}\n", lines.join("\n")));
    let mut m = CostMonitor::new().unwrap();
    m.import(&p, &ImportOptions::default().keep_column("Id")).unwrap();
    let by_env =
        m.breakdown(all(), &[Dimension::Tag("environment".into())], CostMetric::Billed).unwrap();
    assert!(by_env.rows.iter().any(|r| r.keys[0] == "(untagged)"));
    assert!(by_env.rows.iter().any(|r| r.keys[0] == "dev"), "{:?}", by_env.rows);
    let by_id = m.breakdown(all(), &[Dimension::Column("Id".into())], CostMetric::Billed).unwrap();
    assert_eq!(by_id.rows.len(), 1000);
    for b in [by_env, by_id] {
        let sum: Decimal = b.rows.iter().map(|r| r.cost.amount).sum();
        assert_eq!(sum, dec("20.52022672899"));
    }
}

#[test]
fn seed_003_in_rust() {
    let mut m = CostMonitor::new().unwrap();
    let mut r = Resource::new("app-server-01", ResourceType::Compute, CloudProvider::Aws)
        .usage_hours(decimal_from_f64(720.0).unwrap())
        .cost_per_hour(decimal_from_f64(0.096).unwrap());
    r.metadata.insert("utilization".into(), serde_json::json!(0.65));
    m.track_resource(r).unwrap();
    let report = m.report(ReportPeriod::Monthly).unwrap();
    assert_eq!(report.total_cost, Money::new(dec("69.12"), Currency::USD));
    assert_eq!(report.optimization_opportunities.len(), 1);
    let opp = &report.optimization_opportunities[0];
    // 0.096 × 730 × 20% (the assumed rate, said so).
    assert_eq!(opp.potential_savings.amount, dec("14.016"));
    assert!(opp.recommendation.contains("assumed 20%"), "{}", opp.recommendation);
    assert_eq!(report.estimated_savings.amount, dec("14.016"));
    let applied = m.apply_optimization(opp).unwrap();
    assert!(applied.message.contains("cannot change cloud resources"), "{}", applied.message);
    assert_eq!(m.applied_optimizations().unwrap().len(), 1);
    for text in [report.to_text(), report.to_markdown(), report.to_html()] {
        assert!(text.contains("69.12"), "{text}");
    }
}

#[test]
fn the_report_of_the_sample() {
    let mut m = CostMonitor::new().unwrap();
    m.import(SAMPLE, &ImportOptions::default()).unwrap();
    let r = m.report(ReportPeriod::Monthly).unwrap();
    assert_eq!(r.period.to_string(), "2024-09-01..2024-09-30", "the latest month with data");
    assert_eq!(r.total_cost.amount, dec("20.52022672899"));
    let sept = m.report(ReportPeriod::Range(Period::month(2024, 9).unwrap())).unwrap();
    assert_eq!(sept.total_cost, r.total_cost);
    for b in &sept.breakdowns {
        let sum: Decimal = b.rows.iter().map(|r| r.cost.amount).sum();
        assert_eq!(sum, sept.total_cost.amount, "{:?}", b.dimensions);
    }
    assert!(sept.notes.iter().any(|n| n.contains("EffectiveCost")), "{:?}", sept.notes);
    assert!(
        sept.forecast.is_some() && sept.forecast_note.contains("80% interval"),
        "{}",
        sept.forecast_note
    );
    let json: serde_json::Value = serde_json::from_str(&sept.to_json()).unwrap();
    assert_eq!(json["total_cost"]["amount"], serde_json::json!(sept.total_cost.amount.to_string()));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn import_lines(header: &str, lines: &[String]) -> CostMonitor {
        let dir = temp_dir("prop");
        let p = write(
            &dir,
            &format!("{}.csv", lines.len()),
            format!("{header}\n{}\n", lines.join("\n")),
        );
        let mut m = CostMonitor::new().unwrap();
        m.import(&p, &ImportOptions::default().strict(true)).unwrap();
        m
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Shuffled rows give the same breakdowns, and every breakdown adds up to the total.
        #[test]
        fn shuffled_input_gives_the_same_figures(seed in any::<u64>(), pick in 0usize..6) {
            let (header, lines) = sample_lines();
            let mut shuffled = lines.clone();
            let mut rng = crate::regress::rng::Rng::new(seed);
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
            }
            let dims = [
                vec![Dimension::Day],
                vec![Dimension::Provider, Dimension::Service],
                vec![Dimension::ResourceType, Dimension::Region],
                vec![Dimension::Account, Dimension::ChargeCategory],
                vec![Dimension::Tag("org".into())],
                vec![Dimension::Week, Dimension::Resource],
            ][pick].clone();
            let a = import_lines(&header, &lines).breakdown(all(), &dims, CostMetric::Billed).unwrap();
            let b = import_lines(&header, &shuffled).breakdown(all(), &dims, CostMetric::Billed).unwrap();
            prop_assert_eq!(&a.rows, &b.rows);
            let sum: Decimal = a.rows.iter().map(|r| r.cost.amount).sum();
            prop_assert_eq!(sum, dec("20.52022672899"));
        }

        /// Two imports merged equal the import of their concatenation.
        #[test]
        fn two_parts_equal_the_whole(cut in 1usize..999) {
            let dir = temp_dir("merge");
            let (header, lines) = sample_lines();
            let a = write(&dir, "a.csv", format!("{header}\n{}\n", lines[..cut].join("\n")));
            let b = write(&dir, "b.csv", format!("{header}\n{}\n", lines[cut..].join("\n")));
            let mut m = CostMonitor::new().unwrap();
            m.import_all(&[a, b], &ImportOptions::default().strict(true)).unwrap();
            let whole = import_lines(&header, &lines);
            let dims = [Dimension::Day, Dimension::Resource, Dimension::ChargeCategory];
            prop_assert_eq!(
                m.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows,
                whole.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows
            );
        }

        /// Arbitrary bytes never panic the importer: they are imported, or refused with an error.
        #[test]
        fn arbitrary_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), keep_header: bool) {
            let dir = temp_dir("fuzz");
            let mut content = if keep_header { sample_lines().0.into_bytes() } else { Vec::new() };
            content.push(b'\n');
            content.extend(bytes);
            let p = write(&dir, "f.csv", content);
            let _ = CostMonitor::new().unwrap().import(&p, &ImportOptions::default());
        }
    }
}

const SAMPLE_PARQUET: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/focus/focus_sample.parquet");

#[cfg(feature = "parquet")]
#[test]
fn parquet_reads_the_same_as_csv() {
    let mut p = CostMonitor::new().unwrap();
    let s = p.import(SAMPLE_PARQUET, &ImportOptions::default().strict(true)).unwrap();
    assert_eq!((s.format.as_str(), s.rows_imported), ("parquet", 1000));
    assert_eq!(s.nulls.get("ContractedCost"), Some(&7), "{:?}", s.nulls);
    let mut c = CostMonitor::new().unwrap();
    c.import(SAMPLE, &ImportOptions::default()).unwrap();
    for dims in [
        vec![Dimension::Day, Dimension::Service],
        vec![Dimension::Resource, Dimension::Tag("org".into())],
        vec![Dimension::ChargeFrequency],
    ] {
        for metric in [CostMetric::Billed, CostMetric::Effective, CostMetric::List] {
            assert_eq!(
                p.breakdown(all(), &dims, metric).unwrap().rows,
                c.breakdown(all(), &dims, metric).unwrap().rows,
                "{dims:?} {metric}"
            );
        }
    }
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_so() {
    let err =
        CostMonitor::new().unwrap().import(SAMPLE_PARQUET, &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("`parquet` feature"), "{err}");
}

#[test]
fn the_html_report_escapes_what_the_bill_says() {
    let mut m = CostMonitor::new().unwrap();
    m.track_resource(
        Resource::new(
            "<script>alert(1)</script>",
            ResourceType::Compute,
            CloudProvider::Other("Acme & Co".into()),
        )
        .service("\"quoted\" <svc>")
        .usage_hours(dec("10"))
        .cost_per_hour(dec("1.5")),
    )
    .unwrap();
    let page = m.report(ReportPeriod::Monthly).unwrap().to_html();
    assert!(!page.contains("<script>"), "an unescaped name");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && page.contains("Acme &amp; Co")
    );
    for id in
        ["id=\"total\"", "id=\"daily\"", "id=\"breakdowns\"", "id=\"top\"", "id=\"opportunities\""]
    {
        assert!(page.contains(id), "{id}");
    }
    assert!(page.contains("15.00 USD"));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_map_tags_and_unreadable_extra_columns() {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/focus/focus_sample_map_tags.parquet");
    let mut p = CostMonitor::new().unwrap();
    let s = p.import(path, &ImportOptions::default().strict(true)).unwrap();
    assert_eq!(s.unread_columns.len(), 1, "{:?}", s.unread_columns);
    assert_eq!(s.unread_columns[0].0, "x_Labels");
    assert!(s.describe().contains("x_Labels"), "{}", s.describe());
    let mut c = CostMonitor::new().unwrap();
    c.import(SAMPLE, &ImportOptions::default()).unwrap();
    for key in ["org", "environment", "application"] {
        let dims = [Dimension::Tag(key.into())];
        assert_eq!(
            p.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows,
            c.breakdown(all(), &dims, CostMetric::Billed).unwrap().rows,
            "tag:{key}"
        );
    }
}

/// A FOCUS 1.2 export as AWS Data Exports writes it: every column of 1.2 plus AWS's own
/// `x_` columns, unused ones empty, costs in scientific notation, milliseconds and `Z`.
#[test]
fn an_aws_focus_1_2_export() {
    const HEADER: &str = "AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingAccountType,BillingCurrency,\
BillingPeriodEnd,BillingPeriodStart,CapacityReservationId,CapacityReservationStatus,ChargeCategory,ChargeClass,\
ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,CommitmentDiscountId,\
CommitmentDiscountName,CommitmentDiscountQuantity,CommitmentDiscountStatus,CommitmentDiscountType,CommitmentDiscountUnit,\
ConsumedQuantity,ConsumedUnit,ContractedCost,ContractedUnitPrice,EffectiveCost,InvoiceId,InvoiceIssuerName,ListCost,\
ListUnitPrice,PricingCategory,PricingCurrency,PricingCurrencyContractedUnitPrice,PricingCurrencyEffectiveCost,\
PricingCurrencyListUnitPrice,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,RegionName,ResourceId,\
ResourceName,ResourceType,ServiceCategory,ServiceName,ServiceSubcategory,SkuId,SkuMeter,SkuPriceDetails,SkuPriceId,\
SubAccountId,SubAccountName,SubAccountType,Tags,x_Discounts,x_Operation,x_ServiceCode";
    let columns: Vec<&str> = HEADER.split(',').collect();
    let line = |values: &[(&str, &str)]| -> String {
        columns
            .iter()
            .map(|c| values.iter().find(|(n, _)| n == c).map_or("", |(_, v)| *v))
            .collect::<Vec<_>>()
            .join(",")
    };
    let common = [
        ("BillingAccountId", "123456789012"),
        ("BillingCurrency", "USD"),
        ("BillingPeriodStart", "2026-09-01T00:00:00.000Z"),
        ("BillingPeriodEnd", "2026-10-01T00:00:00.000Z"),
        ("ProviderName", "AWS"),
        ("PublisherName", "AWS"),
        ("InvoiceIssuerName", "\"Amazon Web Services, Inc.\""),
    ];
    let usage = line(
        &[
            &common[..],
            &[
                ("BilledCost", "6.123E-7"),
                ("EffectiveCost", "6.123E-7"),
                ("ListCost", "6.123E-7"),
                ("ContractedCost", "6.123E-7"),
                ("ChargeCategory", "Usage"),
                ("ChargePeriodStart", "2026-09-01T00:00:00.000Z"),
                ("ChargePeriodEnd", "2026-09-01T01:00:00.000Z"),
                ("ResourceId", "arn:aws:logs:ap-east-1:123456789012:log-group:/aws/lambda/api"),
                ("ServiceCategory", "Management and Governance"),
                ("ServiceName", "AmazonCloudWatch"),
                ("Tags", "\"{\"\"team\"\":\"\"api\"\"}\""),
                ("x_Operation", "PutLogEvents"),
                ("x_ServiceCode", "AmazonCloudWatch"),
            ],
        ]
        .concat(),
    );
    let tax = line(
        &[
            &common[..],
            &[
                ("BilledCost", "1.25"),
                ("EffectiveCost", "1.25"),
                ("ListCost", "1.25"),
                ("ContractedCost", "1.25"),
                ("ChargeCategory", "Tax"),
                ("ChargePeriodStart", "2026-09-01T00:00:00.000Z"),
                ("ChargePeriodEnd", "2026-10-01T00:00:00.000Z"),
                ("RegionId", "\"\""),
                ("ServiceCategory", "Other"),
                ("ServiceName", "Tax"),
                ("Tags", "{}"),
            ],
        ]
        .concat(),
    );
    let dir = temp_dir("aws12");
    let p = write(&dir, "focus-00001.csv", format!("{HEADER}\n{usage}\n{tax}\n"));
    let mut m = CostMonitor::new().unwrap();
    let s = m.import(&p, &ImportOptions::default().strict(true)).unwrap();
    assert_eq!((s.focus_version.as_str(), s.rows_imported), ("1.2", 2), "{}", s.describe());
    assert_eq!(s.billed.total(None).unwrap().amount, dec("1.2500006123"));
    let extras: Vec<&str> =
        s.extra_columns.iter().filter(|c| !c.spec).map(|c| c.name.as_str()).collect();
    assert_eq!(extras, ["x_Discounts", "x_Operation", "x_ServiceCode"]);
    let op = s.extra_columns.iter().find(|c| c.name == "x_Operation").unwrap();
    assert_eq!((op.values[0].value.as_str(), op.values[0].rows), ("PutLogEvents", 1));
    let by = m
        .breakdown(
            all(),
            &[Dimension::ChargeCategory, Dimension::Tag("team".into())],
            CostMetric::Billed,
        )
        .unwrap();
    let keys: Vec<Vec<String>> = by.rows.iter().map(|r| r.keys.clone()).collect();
    assert_eq!(
        keys,
        [
            vec!["Tax".to_owned(), "(untagged)".to_owned()],
            vec!["Usage".to_owned(), "api".to_owned()]
        ]
    );
}

/// Two writers import at once into one store, while a reader keeps reading: both imports
/// land whole, and the reader only ever sees a state before, between or after them.
#[test]
fn concurrent_imports_and_reads_see_whole_states() {
    let dir = temp_dir("concurrent");
    let (header, lines) = sample_lines();
    let a = write(&dir, "a.csv", format!("{header}\n{}\n", lines[..500].join("\n")));
    let b = write(&dir, "b.csv", format!("{header}\n{}\n", lines[500..].join("\n")));
    CostMonitor::open(&dir).unwrap();
    let total_of = |p: &Path| {
        let mut m = CostMonitor::new().unwrap();
        m.import(p, &ImportOptions::default()).unwrap();
        m.total(all(), CostMetric::Billed).unwrap().amount
    };
    let (ta, tb) = (total_of(&a), total_of(&b));
    let allowed = [Decimal::ZERO, ta, tb, ta + tb];
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let m = CostMonitor::open(&dir).unwrap();
            let mut seen = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = m.total(all(), CostMetric::Billed).unwrap().amount;
                assert!(allowed.contains(&t), "a torn state: {t}");
                seen += 1;
            }
            seen
        });
        let writers: Vec<_> = [&a, &b]
            .into_iter()
            .map(|p| {
                let dir = &dir;
                s.spawn(move || {
                    let mut m = CostMonitor::open(dir).unwrap();
                    m.import(p, &ImportOptions::default().mode(ImportMode::Append)).unwrap()
                })
            })
            .collect();
        for w in writers {
            assert_eq!(w.join().unwrap().outcome, ImportOutcome::Imported);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    let m = CostMonitor::open(&dir).unwrap();
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap().amount, dec("20.52022672899"));
    assert_eq!(m.imports().unwrap().len(), 2);
}

/// The view users query with sqlite3 or DuckDB gives the same sums, as REAL.
#[test]
fn the_daily_costs_view_answers_plain_sql() {
    let dir = temp_dir("view");
    let mut m = CostMonitor::open(&dir).unwrap();
    m.import(SAMPLE, &ImportOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(dir.join(STORE_FILE)).unwrap();
    let (rows, total, days): (i64, f64, i64) = conn
        .query_row(
            "SELECT sum(rows), sum(billed_cost), count(DISTINCT day) FROM daily_costs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((rows, days), (1000, 30));
    assert!((total - 20.52022672899).abs() < 1e-9, "{total}");
    let first: String =
        conn.query_row("SELECT min(day) FROM daily_costs", [], |r| r.get(0)).unwrap();
    assert_eq!(first, "2024-09-01");
}

/// Prices and amounts at the edge of 28 digits are an error, never a panic.
#[test]
fn overflowing_figures_are_errors() {
    let f = perfcore_stats(u64::MAX / 4);
    let huge = Price::per_vcpu_hour(Decimal::MAX);
    assert!(matches!(function_costs(&f, &huge), Err(CostError::Overflow)));
    let mut m = CostMonitor::new().unwrap();
    m.track_resource(
        Resource::new("big", ResourceType::Compute, CloudProvider::Aws)
            .usage_hours(dec("720"))
            .cost_per_hour(Decimal::MAX / dec("10")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(m.report(ReportPeriod::Monthly).is_err());
}

fn perfcore_stats(self_ns: u64) -> crate::Snapshot {
    crate::Snapshot::from_functions(
        vec![crate::FunctionStats::from_durations("f", [self_ns])],
        0,
        1_000_000_000,
    )
}

#[test]
fn daily_series_tell_gaps_from_zero_spend() {
    use super::synthetic::{SyntheticRow, focus_csv};
    let d0 = Day::parse("2024-09-01").unwrap();
    let mut rows = Vec::new();
    for i in 0..10 {
        if i == 4 {
            continue; // no data at all that day: a gap
        }
        rows.push(SyntheticRow::new(Day(d0.0 + i), "web", "i-1", dec("2")));
        if i % 2 == 0 {
            rows.push(SyntheticRow::new(Day(d0.0 + i), "db", "db-1", dec("5")));
        }
    }
    let dir = temp_dir("series");
    let path = write(&dir, "bill.csv", focus_csv(&rows));
    let mut m = CostMonitor::new().unwrap();
    m.import(&path, &ImportOptions::default()).unwrap();
    let series = m.daily_series(all(), &[Dimension::Service], CostMetric::Billed).unwrap();
    assert_eq!(series.len(), 2);
    let db = &series[0];
    assert_eq!(db.keys, ["db"]);
    assert_eq!(db.start, d0);
    assert_eq!(db.values.len(), 10);
    assert_eq!(db.values[0], Some(dec("5")));
    assert_eq!(db.values[1], Some(Decimal::ZERO), "a day with data but none for db is a zero");
    assert_eq!(db.values[4], None, "a day without data is a gap");
    let web = &series[1];
    assert_eq!(web.sum(all()).unwrap().to_string(), "18 USD");
    let total = m.daily_series(all(), &[], CostMetric::Billed).unwrap();
    assert_eq!(total.len(), 1);
    assert_eq!(total[0].name(), "total");
    assert_eq!(total[0].values[2], Some(dec("7")));
    assert!(m.daily_series(all(), &[Dimension::Day], CostMetric::Billed).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// 90 days of three services (web with three instances), a weekly cycle and noise.
fn services_csv(spike: Option<(i32, &str, &str)>) -> String {
    use super::synthetic::{SyntheticRow, focus_csv};
    let d0 = Day::parse("2024-06-01").unwrap();
    let mut seed = 7u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 40) as f64 / (1u64 << 24) as f64 - 0.5
    };
    let mut rows = Vec::new();
    for i in 0..90 {
        let day = Day(d0.0 + i);
        let weekend = (day.0 + 3).rem_euclid(7) >= 5;
        for (service, resource, base) in [
            ("web", "web-1", 40.0),
            ("web", "web-2", 40.0),
            ("web", "web-3", 20.0),
            ("db", "db-1", 70.0),
            ("queue", "q-1", 5.0),
        ] {
            let mut cost = base * if weekend { 0.7 } else { 1.0 } * (1.0 + 0.04 * noise());
            if spike.is_some_and(|(d, s, r)| d == i && s == service && r == resource) {
                cost += 60.0;
            }
            let cost = decimal_from_f64(cost).unwrap().round_dp(4);
            rows.push(SyntheticRow::new(day, service, resource, cost));
        }
    }
    focus_csv(&rows)
}

#[test]
fn a_known_spike_is_found_with_the_resource_that_drove_it() {
    let dir = temp_dir("anomaly");
    let path = write(&dir, "bill.csv", services_csv(Some((75, "web", "web-2"))));
    let mut m = CostMonitor::new().unwrap();
    m.import(&path, &ImportOptions::default()).unwrap();
    let found = m.anomalies(Some(&Dimension::Service), all(), &AnomalyOptions::default()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let a = &found[0];
    assert_eq!(a.day.to_string(), "2024-08-15");
    assert_eq!((a.dimension.as_str(), a.key.as_str()), ("service", "web"));
    assert_eq!(a.direction, AnomalyDirection::Increase);
    assert!(a.impact.amount > dec("45") && a.impact.amount < dec("75"), "{a:?}");
    assert!(a.spreads.unwrap() > 4.0);
    assert!(a.actual.amount > a.upper.amount);
    assert_eq!(a.drivers[0].resource, "web-2");
    assert!(a.drivers[0].impact.amount > dec("45"));
    // Per resource, the same day and that resource only.
    let per_resource =
        m.anomalies(Some(&Dimension::Resource), all(), &AnomalyOptions::default()).unwrap();
    assert_eq!(per_resource.len(), 1);
    assert_eq!((per_resource[0].key.as_str(), per_resource[0].day), ("web-2", a.day));
    // A period that leaves the day out finds nothing.
    let july = Period::month(2024, 7).unwrap();
    assert!(
        m.anomalies(Some(&Dimension::Service), july, &AnomalyOptions::default())
            .unwrap()
            .is_empty()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_plain_weekly_cycle_of_services_raises_no_anomaly() {
    let dir = temp_dir("anomaly-none");
    let path = write(&dir, "bill.csv", services_csv(None));
    let mut m = CostMonitor::new().unwrap();
    m.import(&path, &ImportOptions::default()).unwrap();
    for by in [None, Some(&Dimension::Service), Some(&Dimension::Resource)] {
        let found = m.anomalies(by, all(), &AnomalyOptions::default()).unwrap();
        assert!(found.is_empty(), "{by:?}: {found:#?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn import_rows(m: &mut CostMonitor, rows: &[super::synthetic::SyntheticRow], tag: &str) {
    let dir = temp_dir(tag);
    let path = write(&dir, "bill.csv", super::synthetic::focus_csv(rows));
    m.import(&path, &ImportOptions { mode: ImportMode::Append, ..ImportOptions::default() })
        .unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

fn usd(s: &str) -> Money {
    Money::new(dec(s), Currency::USD)
}

#[test]
fn budgets_alert_once_per_threshold_and_period_in_their_scope() {
    use super::synthetic::SyntheticRow;
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("budget");
    let d0 = Day::parse("2024-09-01").unwrap();
    let day_rows = |i: i32| {
        let mut web = SyntheticRow::new(Day(d0.0 + i), "web", "web-1", dec("10"));
        web.tags = r#"{"team":"web"}"#.into();
        let db = SyntheticRow::new(Day(d0.0 + i), "db", "db-1", dec("30"));
        vec![web, db]
    };
    let fired = Arc::new(Mutex::new(Vec::<BudgetAlert>::new()));
    {
        let mut m = CostMonitor::open(&dir).unwrap();
        // web spends 10 a day: 300 in September. db's 30 a day is out of scope.
        m.add_budget(
            Budget::new("web", usd("250"), BudgetPeriod::Monthly)
                .scope(Dimension::Tag("team".into()), "web")
                .threshold("50:actual".parse().unwrap())
                .threshold("100:actual".parse().unwrap())
                .threshold("100:forecast".parse().unwrap()),
        )
        .unwrap();
        let sink = Arc::clone(&fired);
        m.on_budget_alert(move |a| sink.lock().unwrap().push(a.clone()));
        for i in 0..10 {
            import_rows(&mut m, &day_rows(i), "budget-day");
            m.check_budgets().unwrap();
        }
        // Ten days in: 100 spent (40%), nothing actual yet; too little history to forecast.
        let status = m.check_budgets().unwrap();
        assert_eq!(status[0].actual, usd("100"));
        assert!(status[0].forecast.is_none());
        assert!(status[0].forecast_note.as_deref().unwrap().contains("insufficient history"));
        assert!(fired.lock().unwrap().is_empty());
        for i in 10..20 {
            import_rows(&mut m, &day_rows(i), "budget-day");
            m.check_budgets().unwrap();
        }
    }
    // Day 13 crossed 50% actual (130 ≥ 125); from day 14 the forecast says 300 ≥ 250.
    let names: Vec<String> =
        fired.lock().unwrap().iter().map(|a| a.threshold.to_string()).collect();
    assert_eq!(names, ["50% actual", "100% forecast"], "{:#?}", fired.lock().unwrap());
    {
        let alerts = fired.lock().unwrap();
        assert_eq!(alerts[0].as_of.to_string(), "2024-09-13");
        assert_eq!(alerts[0].actual, usd("130"));
        let f = alerts[1].forecast.unwrap();
        assert!((f.amount - dec("300")).abs() < dec("1"), "{f}");
        assert!(alerts[1].message.contains("forecast spend"), "{}", alerts[1].message);
    }
    // Another process: the alerts fired are remembered, nothing fires again.
    let mut m = CostMonitor::open(&dir).unwrap();
    let again = Arc::new(Mutex::new(0));
    let sink = Arc::clone(&again);
    m.on_budget_alert(move |_| *sink.lock().unwrap() += 1);
    assert!(m.check_budgets().unwrap()[0].new_alerts.is_empty());
    assert_eq!(m.budget_alerts().unwrap().len(), 2);
    // The rest of September: 100% actual fires on day 25 (250), once.
    for i in 20..30 {
        import_rows(&mut m, &day_rows(i), "budget-day");
        m.check_budgets().unwrap();
    }
    assert_eq!(*again.lock().unwrap(), 1);
    // October is a new period: 50% actual fires again when it is crossed.
    for i in 30..44 {
        import_rows(&mut m, &day_rows(i), "budget-day");
        m.check_budgets().unwrap();
    }
    let all_alerts = m.budget_alerts().unwrap();
    let october: Vec<_> =
        all_alerts.iter().filter(|a| a.period.from.to_string() == "2024-10-01").collect();
    assert!(october.iter().any(|a| a.threshold.to_string() == "50% actual"), "{october:#?}");
    assert!(m.remove_budget("web").unwrap());
    assert!(m.budget_alerts().unwrap().is_empty());
    drop(m);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_budgets_are_refused_with_what_is_wrong() {
    let mut m = CostMonitor::new().unwrap();
    let err = m.add_budget(Budget::new("", usd("10"), BudgetPeriod::Monthly)).unwrap_err();
    assert!(err.to_string().contains("name is empty"), "{err}");
    let err = m.add_budget(Budget::new("x", usd("-1"), BudgetPeriod::Monthly)).unwrap_err();
    assert!(err.to_string().contains("not above zero"), "{err}");
    assert!("0:actual".parse::<BudgetThreshold>().is_err());
    assert!("80:maybe".parse::<BudgetThreshold>().unwrap_err().to_string().contains("maybe"));
    assert!("day=2024-01-01".parse::<BudgetScope>().is_err());
    assert!("colour=red".parse::<BudgetScope>().is_err());
    // A budget in euros over a bill in dollars is an error, not a silent comparison.
    let dir = temp_dir("budget-eur");
    let path = write(&dir, "bill.csv", services_csv(None));
    m.import(&path, &ImportOptions::default()).unwrap();
    m.add_budget(Budget::new("eur", Money::new(dec("10"), Currency::EUR), BudgetPeriod::Monthly))
        .unwrap();
    assert!(matches!(m.check_budgets(), Err(CostError::MixedCurrency { .. })));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_version_1_store_is_migrated_and_keeps_its_data() {
    let dir = temp_dir("migrate");
    {
        let mut m = CostMonitor::open(&dir).unwrap();
        m.import(SAMPLE, &ImportOptions::default()).unwrap();
    }
    let before = CostMonitor::open(&dir).unwrap().total(all(), CostMetric::Billed).unwrap();
    {
        let conn = rusqlite::Connection::open(dir.join(STORE_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE budgets; DROP TABLE budget_alerts; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let mut m = CostMonitor::open(&dir).unwrap();
    assert_eq!(m.total(all(), CostMetric::Billed).unwrap(), before);
    m.add_budget(Budget::new("all", usd("100"), BudgetPeriod::Monthly)).unwrap();
    assert_eq!(m.budgets().unwrap().len(), 1);
    drop(m);
    std::fs::remove_dir_all(dir).unwrap();
}

mod budget_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Checked day by day over two months, each threshold fires once in each period it
        /// is crossed in, on the first day it is, and never in a period it is not.
        #[test]
        fn each_threshold_fires_once_per_crossing(spend in proptest::collection::vec(0u32..200, 45), budget in 500u32..3000) {
            use super::super::synthetic::SyntheticRow;
            let d0 = Day::parse("2024-09-10").unwrap();
            let rows: Vec<SyntheticRow> = spend.iter().enumerate()
                .map(|(i, &c)| SyntheticRow::new(Day(d0.0 + i as i32), "web", "w", Decimal::from(c)))
                .collect();
            let mut m = CostMonitor::new().unwrap();
            import_rows(&mut m, &rows, "budget-prop");
            m.add_budget(Budget::new("b", usd(&budget.to_string()), BudgetPeriod::Monthly)
                .threshold("50:actual".parse().unwrap())
                .threshold("90:actual".parse().unwrap())
                .threshold("100:forecast".parse().unwrap())).unwrap();
            let mut fired: Vec<BudgetAlert> = Vec::new();
            for i in 0..spend.len() {
                for s in m.check_budgets_at(Day(d0.0 + i as i32)).unwrap() {
                    fired.extend(s.new_alerts);
                }
            }
            for pct in [50u32, 90] {
                // The first day, per month, the cumulative spend reaches pct% of the budget.
                let mut expected = Vec::new();
                let mut month = None;
                let mut sum = 0u64;
                let mut done = false;
                for (i, &c) in spend.iter().enumerate() {
                    let day = Day(d0.0 + i as i32);
                    if month != Some(day.month_start()) {
                        month = Some(day.month_start());
                        sum = 0;
                        done = false;
                    }
                    sum += u64::from(c);
                    if !done && sum * 100 >= u64::from(budget) * u64::from(pct) {
                        expected.push(day);
                        done = true;
                    }
                }
                let got: Vec<Day> = fired.iter()
                    .filter(|a| a.threshold.percent == Decimal::from(pct))
                    .map(|a| a.as_of)
                    .collect();
                prop_assert_eq!(got, expected);
            }
            let mut forecast_periods: Vec<Day> = fired.iter()
                .filter(|a| a.threshold.basis == ThresholdBasis::Forecast)
                .map(|a| a.period.from)
                .collect();
            let n = forecast_periods.len();
            forecast_periods.dedup();
            prop_assert_eq!(forecast_periods.len(), n);
            for a in fired.iter().filter(|a| a.threshold.basis == ThresholdBasis::Forecast) {
                prop_assert!(a.forecast.unwrap().amount >= Decimal::from(budget));
            }
        }
    }
}

#[test]
fn the_report_shows_the_forecast_band_and_marks_anomalies() {
    let dir = temp_dir("report-band");
    let path = write(&dir, "bill.csv", services_csv(Some((75, "web", "web-2"))));
    let mut m = CostMonitor::new().unwrap();
    m.import(&path, &ImportOptions::default()).unwrap();
    let report = m.report(ReportPeriod::Monthly).unwrap();
    assert_eq!(report.anomalies.len(), 1, "{:#?}", report.anomalies);
    assert_eq!(report.anomalies[0].day.to_string(), "2024-08-15");
    assert_eq!(report.forecast_daily.len(), 30);
    assert_eq!(report.forecast_daily[0].day.to_string(), "2024-08-30");
    let html = report.to_html();
    assert_eq!(html.matches("class=\"band\"").count(), 1);
    assert_eq!(html.matches("class=\"anomaly\"").count(), 1);
    assert!(html.contains("<h3>Anomalies</h3>"));
    assert!(
        report.to_text().contains("Anomalies:\n  2024-08-15 service web"),
        "{}",
        report.to_text()
    );
    assert!(report.to_markdown().contains("### Anomalies"));
    std::fs::remove_dir_all(dir).unwrap();
}
