//! The `perfcore` command: baselines, comparisons, merges and budget checks from the shell.
//!
//! ```text
//! perfcore show SNAPSHOT
//! perfcore compare BASELINE CURRENT [--threshold 10%] [--threshold-for NAME=5%]...
//!                  [--format text|markdown|json] [--require-baseline] [--strict-env]
//! perfcore merge A B... -o OUT
//! perfcore baseline save|record|list|show|delete|history ...
//! perfcore check SNAPSHOT --budgets FILE [--format text|markdown|json]
//! perfcore cost import FILE... [--strict] [--replace|--append] [--keep-column NAME]...
//! perfcore cost report [--period daily|weekly|monthly|all | --month YYYY-MM | --from DAY --to DAY]
//!                      [--by DIMS] [--cost billed|effective|list|contracted] [--format text|markdown|json|html] [-o OUT]
//! perfcore cost forecast [--days 30] [--by DIMS] [--cost billed|…] [--level 0.8] [--format text|markdown|json] [-o OUT]
//! perfcore cost functions SNAPSHOT --vcpu-hour PRICE [--gib-hour PRICE] [--format text|markdown|json]
//! perfcore cost imports
//! perfcore report SNAPSHOT [--baseline NAME] [--html OUT] [--markdown [OUT]] [--json [OUT]]
//!                 [--folded [OUT]] [--speedscope [OUT]] [--pprof OUT] [--chrome-trace OUT]
//!                 [--hdr OUT] [--prometheus [OUT]] [--classic-prometheus]
//! perfcore top [--url URL | SNAPSHOT] [--interval 1s] [--sort self|p95|p99|calls|errors|total]
//!              [--filter TEXT]
//! ```
//!
//! Exit codes: 0 nothing to report, 1 a regression (or a budget exceeded), 2 bad usage or bad
//! input, with a message naming what and where. A run argument is a file (a perfcore snapshot
//! or baseline, a pytest-benchmark JSON file), a criterion directory (`target/criterion`, or
//! `target/criterion@base` for a named criterion baseline; `new` by default), or the name of
//! a baseline in the store (`--dir`, else `$PERFCORE_DIR`, else `./.perfcore`).

mod cost;
mod input;
mod report;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline::{Baseline, BaselineStore, EnvPolicy, resolve_dir};
use crate::regress::{ChangePointOptions, CompareOptions, Metric, compare, history_change_points};
use input::{Input, InputError};

/// Runs the command with `args` (the program name first, as [`std::env::args_os`] gives
/// them), writing its output to `out` and messages to `err`; returns the exit code.
///
/// # Examples
/// ```
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = perfcore::cli::run(["perfcore", "--version"], &mut out, &mut err);
/// assert_eq!(code, 0);
/// assert!(String::from_utf8(out).unwrap().starts_with("perfcore "));
/// let code = perfcore::cli::run(["perfcore", "show", "/no/such.json"], &mut Vec::new(), &mut err);
/// assert_eq!(code, 2);
/// ```
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let text = e.render().to_string();
            // Help and version go to standard output, usage errors to standard error.
            let _ = if code == 0 {
                out.write_all(text.as_bytes())
            } else {
                err.write_all(text.as_bytes())
            };
            return code;
        }
    };
    match execute(cli, out, err) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let _ = writeln!(err, "  caused by: {s}");
                source = s.source();
            }
            EXIT_BAD_INPUT
        }
    }
}

/// The command's `main`: [`run`] on the process's arguments and standard streams.
///
/// # Examples
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     perfcore::cli::main()
/// }
/// ```
#[must_use]
pub fn main() -> std::process::ExitCode {
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let code = run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(EXIT_BAD_INPUT as u8))
}

const EXIT_REGRESSION: i32 = 1;
const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "perfcore",
    version,
    about = "Baselines, regression verdicts and budget checks for perfcore profiles",
    after_help = "Exit codes: 0 nothing to report, 1 a regression or an exceeded budget, 2 bad usage or input."
)]
struct Cli {
    /// The baseline store (default: $PERFCORE_DIR, else ./.perfcore).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a snapshot, baseline or imported run as a table.
    Show {
        /// A perfcore snapshot or baseline file, a criterion directory, a pytest-benchmark file,
        /// or a stored baseline's name.
        input: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compare a run with a baseline: exit 1 when a function regressed.
    Compare(CompareArgs),
    /// Merge runs (of several threads, processes or machines) into one, losslessly.
    Merge {
        /// The runs to merge: files or stored baseline names.
        #[arg(required = true, num_args = 2..)]
        inputs: Vec<String>,
        /// Where to write the merged run (a baseline if any input is one, else a snapshot).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Refuse runs from different CPUs, core counts, build profiles or runtimes.
        #[arg(long)]
        strict_env: bool,
    },
    /// Save, list, show, delete baselines and read their run history.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Write a run as reports and exports: HTML, Markdown, JSON, folded stacks, speedscope,
    /// pprof, a Chrome trace, HdrHistogram logs, Prometheus text (Markdown when none is named).
    Report(Box<report::ReportArgs>),
    /// Cloud costs: import FOCUS billing exports, reports and breakdowns, function costs.
    #[command(subcommand)]
    Cost(cost::CostCommand),
    /// Check a run against absolute limits (a budgets TOML file): exit 1 when one is exceeded.
    Check {
        /// The run: a file, a criterion directory, or a stored baseline's name.
        input: String,
        /// The budgets file: `[functions."api::checkout"]` with `p95 = "200ms"`, `error_rate = 0.001`, ...
        #[arg(long, value_name = "FILE")]
        budgets: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also fail (exit 1) when a limit could not be judged (bytes without the tracking
        /// allocator, calls per second without a window).
        #[arg(long)]
        require_measured: bool,
    },
    /// A live terminal dashboard over a perfcore endpoint (`--url`) or a snapshot file:
    /// functions by self time, p95, p99, calls/s and errors, CPU and memory, alerts.
    Top(TopArgs),
}

#[derive(Args, Debug)]
struct TopArgs {
    /// A snapshot file (or anything `perfcore show` reads), shown statically.
    #[arg(conflicts_with = "url", required_unless_present = "url")]
    input: Option<String>,
    /// The base URL of a perfcore endpoint (`http://127.0.0.1:9464`; `/metrics` is accepted).
    #[arg(long)]
    url: Option<String>,
    /// How often the endpoint is fetched: `200ms`, `1s`, `2m`.
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    interval: std::time::Duration,
    /// The column to sort by, largest first.
    #[arg(long, default_value = "self", value_parser = parse_sort)]
    sort: crate::top::Sort,
    /// Only functions whose name or module contains TEXT (ignoring case).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    crate::budget::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_sort(s: &str) -> Result<crate::top::Sort, String> {
    s.parse()
}

#[derive(Subcommand, Debug)]
enum BaselineCommand {
    /// Save a run as the baseline NAME (and append it to NAME's history).
    Save(RunArgs),
    /// Append a run to NAME's history without making it the baseline.
    Record(RunArgs),
    /// List the stored baselines.
    List,
    /// Print a stored baseline: where it was recorded and its functions.
    Show {
        name: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Delete a stored baseline and its history.
    Delete { name: String },
    /// Print NAME's run history and the change points in it.
    History {
        name: String,
        /// One function's series, run by run (default: every function's change points).
        #[arg(long)]
        function: Option<String>,
        /// The metric to follow.
        #[arg(long, value_enum, default_value_t = Metric::Median)]
        metric: Metric,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// A run to keep under a name.
#[derive(Args, Debug)]
struct RunArgs {
    name: String,
    /// The run: a file, a criterion directory, or another stored baseline's name.
    input: String,
    /// A label to keep with it (repeatable): `--label job=nightly`.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Runs of history to keep (the oldest are dropped).
    #[arg(long, value_name = "RUNS")]
    retention: Option<usize>,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// The baseline: a file, or a stored baseline's name (whose history then sets the noise floor).
    baseline: String,
    /// The run to judge: a file, or a stored baseline's name.
    current: String,
    /// The change a function must exceed to count, e.g. `10%` or `0.1`.
    #[arg(long, default_value = "10%", value_parser = parse_fraction)]
    threshold: f64,
    /// A threshold for functions matching NAME, repeatable: a name or a pattern (`?` one
    /// character, `*` within one `::` segment, `**` across segments).
    #[arg(long = "threshold-for", value_name = "NAME=PCT", value_parser = parse_threshold_for)]
    threshold_for: Vec<(String, f64)>,
    /// Calls each run needs before a function is judged.
    #[arg(long, default_value_t = 30)]
    min_calls: u64,
    /// The false-discovery rate across functions.
    #[arg(long, default_value = "5%", value_parser = parse_fraction)]
    alpha: f64,
    /// Output: a terminal table, Markdown for a pull-request comment, or JSON.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Fail (exit 2) when the baseline does not exist, instead of passing with a note.
    #[arg(long)]
    require_baseline: bool,
    /// Refuse to compare runs from different CPUs, core counts, build profiles or runtimes.
    #[arg(long)]
    strict_env: bool,
    /// Ignore the stored history (no noise floor from earlier runs).
    #[arg(long)]
    no_history: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

/// `10%` → 0.1; `0.1` → 0.1; a bare number above 1 is refused as ambiguous.
pub(crate) fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage like 10% or a fraction like 0.1"))?;
    let v = v / scale;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}` must be a positive percentage"));
    }
    if scale == 1.0 && v > 1.0 {
        return Err(format!("`{s}` is ambiguous: write {s}% or {}", v / 100.0));
    }
    Ok(v)
}

fn parse_threshold_for(s: &str) -> Result<(String, f64), String> {
    let (name, pct) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}` should be NAME=PERCENT, e.g. db::query=5%"))?;
    if name.is_empty() {
        return Err(format!("`{s}` names no function"));
    }
    Ok((name.to_owned(), parse_fraction(pct)?))
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("`{s}` should be KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("`{s}` has an empty key"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

pub(crate) fn store_of(
    dir: Option<PathBuf>,
    retention: Option<usize>,
) -> Result<BaselineStore, InputError> {
    let store = BaselineStore::open(
        dir.unwrap_or_else(|| resolve_dir(std::env::var_os(crate::baseline::PERFCORE_DIR_VAR))),
    );
    Ok(match retention {
        Some(n) => store.with_retention(n)?,
        None => store,
    })
}

fn execute(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, InputError> {
    match cli.command {
        Command::Show { input, format } => {
            let store = store_of(cli.dir, None)?;
            let run = Input::load(&input, &store)?;
            run.warn(err);
            match format {
                Format::Json => writeln!(out, "{}", run.snapshot.to_json())?,
                Format::Text | Format::Markdown => {
                    writeln!(out, "{}", run.describe())?;
                    writeln!(out, "{}", run.snapshot)?;
                }
            }
            Ok(0)
        }
        Command::Compare(args) => compare_command(args, cli.dir, out, err),
        Command::Merge { inputs, output, strict_env } => {
            let store = store_of(cli.dir, None)?;
            let policy = if strict_env { EnvPolicy::Strict } else { EnvPolicy::Warn };
            let runs =
                inputs.iter().map(|i| Input::load(i, &store)).collect::<Result<Vec<_>, _>>()?;
            for r in &runs {
                r.warn(err);
            }
            let any_baseline = runs.iter().any(|r| r.baseline.is_some());
            let mut merged: Baseline = runs[0].as_baseline()?;
            for r in &runs[1..] {
                for d in merged.merge(&r.as_baseline()?, policy)? {
                    writeln!(err, "warning: merging {} from another environment: {d}", r.source)?;
                }
            }
            if any_baseline {
                merged.write_json(&output)?;
            } else {
                merged.snapshot.write_json(&output)?;
            }
            writeln!(
                out,
                "merged {} runs ({} calls, {} functions) into {}",
                runs.len(),
                merged.snapshot.total_calls(),
                merged.snapshot.functions.len(),
                output.display()
            )?;
            Ok(0)
        }
        Command::Baseline(cmd) => baseline_command(cmd, cli.dir, out, err),
        Command::Report(args) => report::report_command(*args, cli.dir, out, err),
        Command::Cost(cmd) => cost::cost_command(cmd, cli.dir, out, err),
        Command::Check { input, budgets, format, require_measured } => {
            let budgets = crate::budget::Budgets::read(&budgets)?;
            let store = store_of(cli.dir, None)?;
            let run = Input::load(&input, &store)?;
            run.warn(err);
            let report = budgets.check(&run.snapshot);
            match format {
                Format::Text => writeln!(out, "{report}")?,
                Format::Markdown => write!(out, "{}", report.to_markdown())?,
                Format::Json => writeln!(out, "{}", input::to_json(&report))?,
            }
            let failed = !report.passed() || (require_measured && !report.fully_measured());
            Ok(if failed { EXIT_REGRESSION } else { 0 })
        }
        Command::Top(args) => top_command(args, cli.dir, err),
    }
}

fn top_command(
    args: TopArgs,
    dir: Option<PathBuf>,
    err: &mut dyn Write,
) -> Result<i32, InputError> {
    use crate::top::{Source, TopOptions};
    let source = match (args.url, args.input) {
        (Some(url), _) => Source::Url(url),
        (None, Some(input)) => {
            let store = store_of(dir, None)?;
            let run = Input::load(&input, &store)?;
            run.warn(err);
            Source::Snapshot { name: input, snapshot: Box::new(run.snapshot) }
        }
        (None, None) => return Err(InputError::Usage("give a SNAPSHOT or --url URL".to_owned())),
    };
    let options = TopOptions::new(source)
        .interval(args.interval)
        .sort(args.sort)
        .filter(args.filter.unwrap_or_default());
    crate::top::run(options)?;
    Ok(0)
}

fn compare_command(
    args: CompareArgs,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, InputError> {
    let store = store_of(dir, None)?;
    let baseline = match Input::load(&args.baseline, &store) {
        Ok(b) => b,
        Err(InputError::NotFound { what, dir }) if !args.require_baseline => {
            writeln!(
                out,
                "no baseline `{what}` yet (neither a file nor a baseline in {}): nothing to compare.\n\
                 Save one with `perfcore baseline save {what} SNAPSHOT`; pass --require-baseline to fail instead.",
                dir.display()
            )?;
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    let current = Input::load(&args.current, &store)?;
    baseline.warn(err);
    current.warn(err);
    let differences = baseline.environment().differences(&current.environment());
    if !differences.is_empty() {
        if args.strict_env {
            return Err(InputError::Baseline(
                crate::baseline::BaselineError::EnvironmentMismatch { differences },
            ));
        }
        for d in &differences {
            writeln!(err, "warning: the runs come from different environments: {d}")?;
        }
    }
    let mut options = CompareOptions::default()
        .threshold(args.threshold)?
        .min_calls(args.min_calls)?
        .alpha(args.alpha)?;
    for (name, t) in args.threshold_for {
        options = options.threshold_for(name, t)?;
    }
    let history = if args.no_history { Vec::new() } else { baseline.history(&store)? };
    let report = compare(&baseline.snapshot, &current.snapshot, &history, &options);
    match args.format {
        Format::Text => writeln!(out, "{report}")?,
        Format::Markdown => write!(out, "{}", report.to_markdown())?,
        Format::Json => writeln!(out, "{}", report.to_json())?,
    }
    Ok(if report.has_regressions() { EXIT_REGRESSION } else { 0 })
}

fn baseline_command(
    cmd: BaselineCommand,
    dir: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, InputError> {
    match cmd {
        BaselineCommand::Save(RunArgs { name, input, labels, retention }) => {
            let store = store_of(dir, retention)?;
            let run = Input::load(&input, &store)?;
            run.warn(err);
            let mut baseline = run.as_baseline()?;
            baseline.name = name;
            for (k, v) in labels {
                baseline = baseline.with_label(k, v);
            }
            let saved = store.save(&baseline)?;
            writeln!(
                out,
                "saved baseline {} ({} functions, {} calls) in {}: run #{} of its history{}",
                saved.name,
                baseline.snapshot.functions.len(),
                baseline.snapshot.total_calls(),
                store.dir().display(),
                saved.id,
                dropped(saved.dropped)
            )?;
        }
        BaselineCommand::Record(RunArgs { name, input, labels, retention }) => {
            let store = store_of(dir, retention)?;
            let run = Input::load(&input, &store)?;
            run.warn(err);
            let saved = store.record_run(
                &name,
                run.environment(),
                labels.into_iter().collect(),
                run.snapshot.summary(),
            )?;
            writeln!(
                out,
                "recorded run #{} in the history of {}{}",
                saved.id,
                saved.name,
                dropped(saved.dropped)
            )?;
        }
        BaselineCommand::List => {
            let store = store_of(dir, None)?;
            let all = store.list()?;
            if all.is_empty() {
                writeln!(out, "no baselines in {}", store.dir().display())?;
                return Ok(0);
            }
            writeln!(
                out,
                "{:<32} {:>9} {:>6} {:<12} created",
                "name", "functions", "runs", "commit"
            )?;
            for entry in all {
                match entry {
                    Ok(b) => writeln!(
                        out,
                        "{:<32} {:>9} {:>6} {:<12} {}",
                        b.name,
                        b.functions,
                        b.runs,
                        b.commit.as_deref().map_or("-", |c| &c[..c.len().min(12)]),
                        input::fmt_unix_ns(b.created_unix_ns)
                    )?,
                    Err(e) => writeln!(err, "warning: {e}")?,
                }
            }
        }
        BaselineCommand::Show { name, format } => {
            let store = store_of(dir, None)?;
            let b = store.load(&name)?;
            match format {
                Format::Json => writeln!(out, "{}", b.to_json())?,
                Format::Text | Format::Markdown => {
                    writeln!(out, "{}", input::describe_environment(&b.name, &b.environment))?;
                    for (k, v) in &b.labels {
                        writeln!(out, "label {k} = {v}")?;
                    }
                    if b.machines.len() > 1 {
                        writeln!(out, "merged from {} machines", b.machines.len())?;
                    }
                    writeln!(out, "{}", b.snapshot)?;
                }
            }
        }
        BaselineCommand::Delete { name } => {
            let store = store_of(dir, None)?;
            store.delete(&name)?;
            writeln!(out, "deleted baseline {name} and its history")?;
        }
        BaselineCommand::History { name, function, metric, format } => {
            let store = store_of(dir, None)?;
            let history = store.history(&name)?;
            if history.runs.is_empty() {
                return Err(InputError::NotFound { what: name, dir: store.dir().to_path_buf() });
            }
            let summaries: Vec<_> = history.runs.iter().map(|r| r.summary.clone()).collect();
            let mut found =
                history_change_points(&summaries, metric, &ChangePointOptions::default());
            if let Some(f) = &function {
                found.retain(|c| &c.function == f);
                if found.is_empty() {
                    return Err(InputError::NoSuchFunction { name: f.clone(), baseline: name });
                }
            }
            if format == Format::Json {
                writeln!(out, "{}", input::to_json(&found))?;
                return Ok(0);
            }
            writeln!(
                out,
                "{} runs of {name} (ids {} to {}); metric {metric}",
                history.runs.len(),
                history.runs[0].id,
                history.runs[history.runs.len() - 1].id
            )?;
            match &function {
                Some(f) => input::print_series(out, &history, f, metric, &found[0])?,
                None => input::print_change_points(out, &history, &found)?,
            }
        }
    }
    Ok(0)
}

fn dropped(n: usize) -> String {
    if n == 0 { String::new() } else { format!(" (retention dropped the {n} oldest)") }
}
