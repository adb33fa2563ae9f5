//! `perfcore report`: a snapshot as HTML, Markdown, JSON, folded stacks, speedscope, pprof,
//! a Chrome trace, HdrHistogram logs or Prometheus text.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::input::{Input, InputError};
use super::{parse_fraction, store_of};
use crate::regress::{CompareOptions, compare};
use crate::report;

/// Where one export goes: a file, or standard output (`-`, or the flag given without a path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Dest {
    Stdout,
    File(PathBuf),
}

fn parse_dest(s: &str) -> Result<Dest, String> {
    Ok(if s == "-" { Dest::Stdout } else { Dest::File(PathBuf::from(s)) })
}

#[derive(Args, Debug)]
pub(super) struct ReportArgs {
    /// The run: a snapshot or baseline file, a criterion directory, a pytest-benchmark file,
    /// or a stored baseline's name.
    input: String,
    /// Compare with this baseline (a file or a stored name) and add the verdicts.
    #[arg(long, value_name = "BASELINE")]
    baseline: Option<String>,
    /// The regression threshold of the comparison.
    #[arg(long, default_value = "10%", value_parser = parse_fraction)]
    threshold: f64,
    /// The report's title.
    #[arg(long)]
    title: Option<String>,
    /// Functions in the Markdown report's self-time table.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// A self-contained HTML report (summary, function table, flamegraph, histograms).
    #[arg(long, value_name = "OUT", value_parser = parse_dest)]
    html: Option<Dest>,
    /// Markdown tables for a pull request or a wiki (standard output without OUT).
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-", value_parser = parse_dest)]
    markdown: Option<Dest>,
    /// The versioned JSON report (summary, functions, hotspots, recommendations, comparison).
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-", value_parser = parse_dest)]
    json: Option<Dest>,
    /// Folded stacks weighted by self time (flamegraph.pl, inferno, speedscope).
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-", value_parser = parse_dest)]
    folded: Option<Dest>,
    /// speedscope's JSON file format.
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-", value_parser = parse_dest)]
    speedscope: Option<Dest>,
    /// pprof's profile.proto, gzipped (`go tool pprof`, Grafana Pyroscope).
    #[arg(long, value_name = "OUT", value_parser = parse_dest)]
    pprof: Option<Dest>,
    /// The timeline as Chrome Trace Event JSON (Perfetto, chrome://tracing); the snapshot
    /// must have been taken with the profiler's timeline on.
    #[arg(long, value_name = "OUT", value_parser = parse_dest)]
    chrome_trace: Option<Dest>,
    /// Every function's latency histogram as an HdrHistogram interval log (V2 compressed).
    #[arg(long, value_name = "OUT", value_parser = parse_dest)]
    hdr: Option<Dest>,
    /// Prometheus / OpenMetrics text exposition (standard output without OUT).
    #[arg(long, value_name = "OUT", num_args = 0..=1, default_missing_value = "-", value_parser = parse_dest)]
    prometheus: Option<Dest>,
    /// Write Prometheus's classic text format (0.0.4: node_exporter's textfile collector,
    /// the Pushgateway, `promtool check metrics`) instead of OpenMetrics.
    #[arg(long)]
    classic_prometheus: bool,
    /// Add what each function costs at this price of a vCPU-hour (Markdown and HTML).
    #[arg(long, value_name = "PRICE")]
    vcpu_hour: Option<String>,
    /// With --vcpu-hour: the price of a GiB-hour of allocated memory.
    #[arg(long, value_name = "PRICE", requires = "vcpu_hour")]
    gib_hour: Option<String>,
    /// With --vcpu-hour: the prices' currency.
    #[arg(long, default_value = "USD", requires = "vcpu_hour")]
    currency: String,
}

/// Writes `bytes` to `dest`: files atomically, so a reader never sees half a report.
fn emit(
    dest: &Dest,
    what: &str,
    bytes: &[u8],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), InputError> {
    match dest {
        Dest::Stdout => out.write_all(bytes)?,
        Dest::File(path) => {
            crate::fsutil::write_atomic(path, bytes)?;
            writeln!(err, "wrote {what} to {} ({})", path.display(), size(bytes.len()))?;
        }
    }
    Ok(())
}

fn size(bytes: usize) -> String {
    crate::analysis::Unit::Bytes.format(bytes as f64)
}

pub(super) fn report_command(
    args: ReportArgs,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, InputError> {
    let store = store_of(dir, None)?;
    let run = Input::load(&args.input, &store)?;
    run.warn(err);
    let comparison = match &args.baseline {
        None => None,
        Some(b) => {
            let baseline = Input::load(b, &store)?;
            baseline.warn(err);
            let history = baseline.history(&store)?;
            let options = CompareOptions::default().threshold(args.threshold)?;
            Some((b.clone(), compare(&baseline.snapshot, &run.snapshot, &history, &options)))
        }
    };
    let all = [
        &args.html,
        &args.markdown,
        &args.json,
        &args.folded,
        &args.speedscope,
        &args.pprof,
        &args.chrome_trace,
        &args.hdr,
        &args.prometheus,
    ];
    let to_stdout = all.iter().filter(|d| matches!(d, Some(Dest::Stdout))).count();
    if to_stdout > 1 {
        return Err(InputError::Usage(
            "more than one format asked for standard output: give all but one of them a file"
                .into(),
        ));
    }
    let snap = &run.snapshot;
    let title = args.title.clone().unwrap_or_else(|| format!("perfcore report: {}", args.input));
    let nothing_asked = all.iter().all(|d| d.is_none());
    let markdown = if nothing_asked { Some(Dest::Stdout) } else { args.markdown.clone() };

    let price = match &args.vcpu_hour {
        None => None,
        Some(v) => Some(super::cost::price_args(
            v,
            args.gib_hour.as_deref().unwrap_or("0"),
            &args.currency,
        )?),
    };
    if let Some(dest) = &markdown {
        let mut options = report::MarkdownOptions::default().title(title.clone()).top(args.top);
        if let Some(p) = price {
            options = options.function_costs(p);
        }
        if let Some((_, cmp)) = &comparison {
            options = options.comparison(cmp.clone());
        }
        emit(
            dest,
            "the Markdown report",
            report::to_markdown(snap, &options).as_bytes(),
            out,
            err,
        )?;
    }
    if let Some(dest) = &args.json {
        let mut options = report::ReportOptions::default();
        if let Some((name, cmp)) = &comparison {
            options = options.with_comparison(name.clone(), cmp.clone());
        }
        let mut json = report::Report::new(snap, &options).to_json();
        json.push('\n');
        emit(dest, "the JSON report", json.as_bytes(), out, err)?;
    }
    if let Some(dest) = &args.html {
        let mut options = report::HtmlOptions::default().title(title.clone());
        if let Some(p) = price {
            options = options.function_costs(p);
        }
        if let Some((name, cmp)) = &comparison {
            options = options.comparison(cmp.clone()).baseline_name(name.clone());
        }
        emit(dest, "the HTML report", report::to_html(snap, &options).as_bytes(), out, err)?;
    }
    if let Some(dest) = &args.folded {
        emit(dest, "folded stacks", report::to_folded(snap).as_bytes(), out, err)?;
    }
    if let Some(dest) = &args.speedscope {
        emit(
            dest,
            "the speedscope profile",
            report::to_speedscope_json(snap).as_bytes(),
            out,
            err,
        )?;
    }
    if let Some(dest) = &args.pprof {
        emit(dest, "the pprof profile", &report::to_pprof(snap), out, err)?;
    }
    if let Some(dest) = &args.chrome_trace {
        let Some(timeline) = snap.timeline.as_ref() else {
            return Err(InputError::Usage(format!(
                "{} has no timeline: build the profiler with `.timeline(capacity)` (Python: \
                 `PerformanceProfiler(timeline=...)`), or set PERFCORE_TIMELINE=8192 for the \
                 global one, to record one",
                args.input
            )));
        };
        let mut bytes = Vec::new();
        report::write_chrome_trace(timeline, &mut bytes)?;
        emit(dest, "the Chrome trace", &bytes, out, err)?;
    }
    if let Some(dest) = &args.hdr {
        let mut bytes = Vec::new();
        report::write_hdr_log(snap, &mut bytes)?;
        emit(dest, "the HdrHistogram log", &bytes, out, err)?;
    }
    if let Some(dest) = &args.prometheus {
        let mut options = report::PrometheusOptions::default();
        if args.classic_prometheus {
            options = options.format(report::ExpositionFormat::Prometheus);
        }
        let text = report::to_prometheus_text(snap, &options);
        emit(dest, "the Prometheus exposition", text.as_bytes(), out, err)?;
    }
    Ok(0)
}
