#!/usr/bin/env python3
"""FOCUS import benchmark: perfcore against pandas, polars and DuckDB on one CSV.

Every tool answers the same question -- the sum of BilledCost grouped by
(UTC day of ChargePeriodStart, ServiceName) -- over the same FOCUS 1.0 CSV
made by ``focus_gen.py``.  Each tool runs as a whole separate process
(interpreter start and library import included, as a user would pay them),
one after another, never two at once, best of ``--runs`` (default 3) on a
warm page cache (one untimed ``cat FILE > /dev/null`` first).  Wall time is
measured around the process; peak RSS comes from ``/usr/bin/time -f %M`` when
it exists, else from ``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process
that runs only the measured command.

The peers (their exact calls are in the ``peer_*`` functions):

* pandas -- ``read_csv(usecols=..., dtype=..., na_values=['NULL'])``, the day
  from ``to_datetime(..., format=..., utc=True).dt.floor('D')``, then
  ``groupby([day, ServiceName])['BilledCost'].sum()``.
* polars -- ``scan_csv(..., null_values=['NULL'])``, the day from
  ``str.to_datetime(..., time_zone='UTC').dt.date()``, then
  ``group_by(...).agg(pl.col('BilledCost').sum()).collect()``.
* DuckDB -- ``SELECT CAST(ChargePeriodStart AS DATE), ServiceName,
  sum(BilledCost) FROM read_csv(..., nullstr='NULL', types={...}) GROUP BY ALL``
  with the three columns' types given explicitly (TIMESTAMP, VARCHAR, DOUBLE).
* perfcore -- ``perfcore --dir TMP cost import FILE`` then ``perfcore --dir TMP
  cost report --by day,service --format json``; its wall time is the sum of
  the two processes', its peak RSS the larger of the two.  Skipped, with a
  message, when the binary is missing or ``perfcore cost --help`` fails.

All peers sum in float64, so their results can differ in the last bits with
summation order; they must agree within 1e-6 relative (plus 1e-9 absolute, for
groups whose sum is near zero: the data is quantised at 1e-11).  The script
fails (exit 1) when they do not.

The data file defaults to ``target/bench-data/focus_<rows>.csv`` (under the
git-ignored target/), regenerated only when it is missing or its
``.sha256`` stamp (over the generator, the sample, rows and seed) changed.
The peers run with the bench venv's python (``target/bench-venv``, made by
``setup-venv.sh``).

Examples::

    bash benches/focus/setup-venv.sh
    python3 benches/focus/peers.py --rows 300000 --perfcore target/release/perfcore
    python3 benches/focus/peers.py --smoke
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GENERATOR = HERE / "focus_gen.py"
DEFAULT_SAMPLE = ROOT / ".." / "shared" / "data" / "focus" / "focus_sample.csv"
DEFAULT_VENV_PYTHON = ROOT / "target" / "bench-venv" / "bin" / "python"
DATA_DIR = ROOT / "target" / "bench-data"
GNU_TIME = Path("/usr/bin/time")
REL_TOL = 1e-6
ABS_TOL = 1e-9
SMOKE_ROWS = 2000
PYTHON_PEERS = ("pandas", "polars", "duckdb")

Result = dict[tuple[str, str], float]


# --------------------------------------------------------------------------
# The peers (run inside the bench venv's python, one process per run)
# --------------------------------------------------------------------------


def peer_pandas(path: str) -> tuple[str, Result]:
    """pandas: read three columns, parse the timestamp, group and sum."""
    import pandas as pd  # noqa: PLC0415

    df = pd.read_csv(
        path,
        usecols=["ChargePeriodStart", "ServiceName", "BilledCost"],
        dtype={"ChargePeriodStart": "string", "ServiceName": "string", "BilledCost": "float64"},
        na_values=["NULL"],
        keep_default_na=False,
    )
    day = pd.to_datetime(df["ChargePeriodStart"], format="%Y-%m-%d %H:%M:%S", utc=True).dt.floor("D")
    sums = df.groupby([day.rename("day"), "ServiceName"])["BilledCost"].sum()
    out = {(d.strftime("%Y-%m-%d"), str(s)): float(v) for (d, s), v in sums.items()}
    return pd.__version__, out


def peer_polars(path: str) -> tuple[str, Result]:
    """polars: lazy scan, parse the timestamp, group and sum."""
    import polars as pl  # noqa: PLC0415

    frame = (
        pl.scan_csv(
            path,
            null_values=["NULL"],
            schema_overrides={"ChargePeriodStart": pl.String, "ServiceName": pl.String, "BilledCost": pl.Float64},
        )
        .group_by(
            pl.col("ChargePeriodStart").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC").dt.date().alias("day"),
            pl.col("ServiceName"),
        )
        .agg(pl.col("BilledCost").sum())
        .collect()
    )
    out = {(d.isoformat(), s): float(v) for d, s, v in frame.iter_rows()}
    return pl.__version__, out


def peer_duckdb(path: str) -> tuple[str, Result]:
    """DuckDB: read_csv with explicit types for the three columns, GROUP BY ALL."""
    import duckdb  # noqa: PLC0415

    quoted = path.replace("'", "''")
    sql = f"""
        SELECT CAST(ChargePeriodStart AS DATE) AS day, ServiceName, sum(BilledCost) AS billed
        FROM read_csv('{quoted}', header = true, nullstr = 'NULL',
                      timestampformat = '%Y-%m-%d %H:%M:%S',
                      types = {{'ChargePeriodStart': 'TIMESTAMP', 'ServiceName': 'VARCHAR',
                               'BilledCost': 'DOUBLE'}})
        GROUP BY ALL
    """
    rows = duckdb.sql(sql).fetchall()
    out = {(d.isoformat(), s): float(v) for d, s, v in rows}
    return duckdb.__version__, out


PEER_FUNCTIONS: dict[str, Callable[[str], tuple[str, Result]]] = {
    "pandas": peer_pandas,
    "polars": peer_polars,
    "duckdb": peer_duckdb,
}


def write_result(path: Path, version: str, result: Result) -> None:
    """Write a peer's result as TSV: a ``# version`` line, then day, service, sum."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# version\t{version}\n")
        for (day, service), value in sorted(result.items()):
            f.write(f"{day}\t{service}\t{value!r}\n")


def read_result(path: Path) -> tuple[str, Result]:
    """Read a file written by ``write_result``."""
    version = ""
    result: Result = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if parts[0] == "# version":
            version = parts[1]
        elif len(parts) == 3:
            result[(parts[0], parts[1])] = float(parts[2])
    return version, result


def parse_perfcore_report(text: str) -> Result:
    """Parse ``perfcore cost report --by day,service --format json``.

    Assumed shape (adapt here when the command settles)::

        {"rows": [{"day": "2024-09-01", "service": "AWS Lambda",
                   "billed_cost": "12.34567890123"}, ...]}

    ``billed_cost`` may be a string or a number; ``day`` may carry a time
    part, of which only the date is kept.
    """
    doc = json.loads(text)
    out: Result = {}
    for row in doc["rows"]:
        key = (str(row["day"])[:10], str(row["service"]))
        out[key] = out.get(key, 0.0) + float(row["billed_cost"])
    return out


# --------------------------------------------------------------------------
# Measuring processes
# --------------------------------------------------------------------------

# Run argv[1:], then print the child's wall seconds and peak RSS in KiB (Linux
# reports ru_maxrss in KiB), like /usr/bin/time -f '%e %M'.  This wrapper has
# only that one child, so RUSAGE_CHILDREN is that child's.
RUSAGE_WRAPPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - t
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
sys.exit(rc)
"""


@dataclass
class Measurement:
    """One timed process: wall seconds and peak RSS in KiB."""

    wall_s: float
    peak_rss_kib: int


class CommandFailed(RuntimeError):
    """A measured command exited non-zero."""


def measure(argv: Sequence[str], stdout_path: Path | None = None) -> Measurement:
    """Run ``argv`` once, as its own process, and measure it.

    With ``/usr/bin/time`` the wall time is taken here around the whole run
    (its ``%e`` has only 10 ms resolution) and the peak RSS is its ``%M``;
    without it, both come from the rusage wrapper, whose clock leaves out its
    own interpreter start.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = Path(tf.name)
    try:
        if GNU_TIME.exists():
            cmd = [str(GNU_TIME), "-f", "%e %M", "-o", str(time_file), *argv]
        else:
            cmd = [sys.executable, "-c", RUSAGE_WRAPPER, str(time_file), *argv]
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(open(stdout_path, "wb")) if stdout_path else subprocess.DEVNULL
            began = time.perf_counter()
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
            wall = time.perf_counter() - began
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace")[-2000:]
            raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}: {tail}")
        fields = time_file.read_text().split()
        if not GNU_TIME.exists():
            wall = float(fields[0])
        return Measurement(wall_s=wall, peak_rss_kib=int(fields[-1]))
    finally:
        time_file.unlink(missing_ok=True)


# --------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------


@dataclass
class ToolRun:
    """All runs of one tool, its version and its result."""

    name: str
    version: str = ""
    runs: list[Measurement] = field(default_factory=list)
    result: Result = field(default_factory=dict)

    @property
    def best_wall(self) -> float:
        """The best (smallest) wall time."""
        return min(m.wall_s for m in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        """The largest peak RSS over the runs, in MB (10^6 bytes)."""
        return max(m.peak_rss_kib for m in self.runs) * 1024 / 1e6


def python_peer_available(python: Path, name: str) -> bool:
    """Whether ``python`` can import the peer's library."""
    module = {"pandas": "pandas", "polars": "polars", "duckdb": "duckdb"}[name]
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


def run_python_peer(python: Path, name: str, data: Path, runs: int, work: Path) -> ToolRun:
    """Run one Python peer ``runs`` times, each as a fresh ``python peers.py --peer`` process."""
    tool = ToolRun(name=name)
    result_file = work / f"{name}.tsv"
    for _ in range(runs):
        result_file.unlink(missing_ok=True)
        tool.runs.append(
            measure(
                [
                    str(python),
                    str(Path(__file__).resolve()),
                    "--peer",
                    name,
                    "--file",
                    str(data),
                    "--result",
                    str(result_file),
                ]
            )
        )
    tool.version, tool.result = read_result(result_file)
    return tool


def perfcore_status(binary: Path) -> str | None:
    """None when ``binary`` can run ``cost``; else why it is skipped."""
    if not binary.exists():
        return f"perfcore skipped: {binary} does not exist"
    probe = subprocess.run([str(binary), "cost", "--help"], capture_output=True)
    if probe.returncode != 0:
        return f"perfcore skipped: `{binary} cost --help` exited {probe.returncode} (no `cost` command in this build)"
    return None


def run_perfcore(binary: Path, data: Path, runs: int, work: Path) -> ToolRun:
    """Run ``cost import`` + ``cost report`` ``runs`` times, each pair in a fresh store."""
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    tool = ToolRun(name="perfcore", version=version.removeprefix("perfcore ").strip())
    report_file = work / "perfcore-report.json"
    for i in range(runs):
        store = work / f"perfcore-store-{i}"
        shutil.rmtree(store, ignore_errors=True)
        imported = measure([str(binary), "--dir", str(store), "cost", "import", str(data)])
        reported = measure(
            [str(binary), "--dir", str(store), "cost", "report", "--by", "day,service", "--format", "json"],
            stdout_path=report_file,
        )
        tool.runs.append(
            Measurement(imported.wall_s + reported.wall_s, max(imported.peak_rss_kib, reported.peak_rss_kib))
        )
        shutil.rmtree(store, ignore_errors=True)
    tool.result = parse_perfcore_report(report_file.read_text(encoding="utf-8"))
    return tool


# --------------------------------------------------------------------------
# Data file
# --------------------------------------------------------------------------


def data_stamp(sample: Path, rows: int, seed: int) -> str:
    """sha256 over the generator's source, the sample's bytes, rows and seed."""
    h = hashlib.sha256()
    h.update(GENERATOR.read_bytes())
    h.update(sample.read_bytes())
    h.update(f"rows={rows} seed={seed}".encode())
    return h.hexdigest()


def ensure_data(rows: int, seed: int, sample: Path, out: Path) -> Path:
    """Generate ``out`` unless it exists with a matching ``.sha256`` stamp."""
    stamp_file = out.with_name(out.name + ".sha256")
    want = data_stamp(sample, rows, seed)
    if out.exists() and stamp_file.exists() and stamp_file.read_text().strip() == want:
        print(f"data: {out} is up to date", file=sys.stderr)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.unlink(missing_ok=True)
    print(f"data: generating {rows} rows into {out}", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--sample",
            str(sample),
            "--out",
            str(out),
        ],
        check=True,
    )
    stamp_file.write_text(want + "\n")
    return out


def count_rows(path: Path) -> int:
    """Data rows in a CSV: newlines minus the header (the generator writes no embedded newlines)."""
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            n += chunk.count(b"\n")
    return max(0, n - 1)


def warm_cache(path: Path) -> None:
    """Read the file once, untimed, so every tool starts on a warm page cache."""
    with open(path, "rb") as f, open(os.devnull, "wb") as null:
        shutil.copyfileobj(f, null, 1 << 22)


def reference_sums(path: Path) -> Result:
    """Exact (Decimal) sums with the stdlib csv module: an independent check, untimed."""
    import csv  # noqa: PLC0415

    sums: dict[tuple[str, str], Decimal] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["ChargePeriodStart"][:10], row["ServiceName"])
            if row["BilledCost"] != "NULL":
                sums[key] = sums.get(key, Decimal(0)) + Decimal(row["BilledCost"])
            else:
                sums.setdefault(key, Decimal(0))
    return {k: float(v) for k, v in sums.items()}


# --------------------------------------------------------------------------
# Checking and reporting
# --------------------------------------------------------------------------


def close(a: float, b: float) -> bool:
    """Equal within REL_TOL relative, or ABS_TOL absolute for sums near zero."""
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


def disagreements(tools: Sequence[tuple[str, Result]]) -> list[str]:
    """Every (day, service) where a tool's sum differs from the first tool's."""
    problems: list[str] = []
    if not tools:
        return problems
    base_name, base = tools[0]
    for name, result in tools[1:]:
        for key in sorted(set(base) | set(result)):
            if key not in result:
                problems.append(f"{name} lacks {key} ({base_name}: {base[key]!r})")
            elif key not in base:
                problems.append(f"{base_name} lacks {key} ({name}: {result[key]!r})")
            elif not close(base[key], result[key]):
                problems.append(f"{key}: {base_name} {base[key]!r} vs {name} {result[key]!r}")
    return problems


def markdown_table(tools: Sequence[ToolRun], rows: int, size_bytes: int) -> str:
    """The results as a Markdown table, fastest first."""
    fastest = min(t.best_wall for t in tools)
    mb = size_bytes / 1e6
    lines = [
        f"{rows:,} rows, {mb:,.1f} MB (`{size_bytes:,}` bytes), best of {len(tools[0].runs)} runs each",
        "",
        "| tool | version | wall s (best) | peak RSS MB | rows/s | MB/s | ratio vs fastest |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in sorted(tools, key=lambda t: t.best_wall):
        w = t.best_wall
        cells = [t.name, t.version, f"{w:.3f}", f"{t.peak_rss_mb:,.0f}", f"{rows / w:,.0f}", f"{mb / w:,.1f}"]
        lines.append("| " + " | ".join([*cells, f"{w / fastest:.2f}x"]) + " |")
    return "\n".join(lines)


def machine_line() -> str:
    """Cores, memory, load average and the Python used: the context of the numbers."""
    load = os.getloadavg()
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(("MemTotal", "MemAvailable")):
                k, v = line.split(":")
                mem += f" {k} {int(v.split()[0]) // 1024} MiB;"
    except OSError:
        pass
    return (
        f"machine: {os.cpu_count()} cores;{mem} load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"{platform.platform()}; rss via {'/usr/bin/time' if GNU_TIME.exists() else 'getrusage wrapper'}"
    )


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, default=300_000, help="rows to generate (default 300000)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--file", type=Path, help="use this CSV instead of generating one")
    p.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="FOCUS sample the generator reads")
    p.add_argument("--runs", type=int, default=3, help="runs per tool; the best wall time is reported (default 3)")
    p.add_argument(
        "--python",
        type=Path,
        default=DEFAULT_VENV_PYTHON,
        help=f"python with the peers installed (default {DEFAULT_VENV_PYTHON})",
    )
    p.add_argument(
        "--perfcore",
        type=Path,
        help="perfcore binary, e.g. target/release/perfcore (skipped when absent or without `cost`)",
    )
    p.add_argument("--tools", default="pandas,polars,duckdb,perfcore", help="comma-separated subset of tools to run")
    p.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_ROWS} rows, 1 run, only the tools available, plus an exact stdlib check",
    )
    p.add_argument("--markdown-out", type=Path, help="also write the table (and machine line) to this file")
    # Internal: run one peer in this process (used by the measured subprocesses).
    p.add_argument("--peer", choices=sorted(PEER_FUNCTIONS), help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: make or find the data, run the tools, check them, print the table."""
    args = parse_args(argv)
    if args.peer:
        version, result = PEER_FUNCTIONS[args.peer](str(args.file))
        write_result(args.result, version, result)
        return 0

    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    python: Path = args.python
    if args.smoke:
        args.rows, args.runs = SMOKE_ROWS, 1
        if not python.exists():
            print(f"smoke: {python} missing; trying the peers with {sys.executable}", file=sys.stderr)
            python = Path(sys.executable)
    elif not python.exists() and any(t in PYTHON_PEERS for t in wanted):
        print(f"{python} is missing: run `bash benches/focus/setup-venv.sh` first (or pass --python)", file=sys.stderr)
        return 2

    if args.file is not None:
        if not args.file.is_file():
            print(f"{args.file}: no such file", file=sys.stderr)
            return 2
        data = args.file
        rows = count_rows(data)
    else:
        data = ensure_data(args.rows, args.seed, args.sample, DATA_DIR / f"focus_{args.rows}.csv")
        rows = args.rows
    size = data.stat().st_size
    warm_cache(data)

    tools: list[ToolRun] = []
    skipped: list[str] = []
    imports: dict[str, float] = {}  # process start + import only: the fixed cost inside each wall time
    with tempfile.TemporaryDirectory(prefix="focus-peers-") as tmp:
        work = Path(tmp)
        for name in wanted:
            if name in PYTHON_PEERS:
                if not python_peer_available(python, name):
                    if args.smoke:
                        skipped.append(f"{name} skipped: not importable by {python}")
                        continue
                    print(f"{name} is not importable by {python}", file=sys.stderr)
                    return 2
                print(f"running {name} x{args.runs} ...", file=sys.stderr)
                tools.append(run_python_peer(python, name, data, args.runs, work))
                imports[name] = measure([str(python), "-c", f"import {name}"]).wall_s
            elif name == "perfcore":
                if args.perfcore is None:
                    skipped.append("perfcore skipped: no --perfcore given")
                    continue
                why = perfcore_status(args.perfcore)
                if why:
                    skipped.append(why)
                    continue
                print(f"running perfcore x{args.runs} ...", file=sys.stderr)
                tools.append(run_perfcore(args.perfcore, data, args.runs, work))
                imports[name] = measure([str(args.perfcore), "--version"]).wall_s
            else:
                print(f"unknown tool {name!r}", file=sys.stderr)
                return 2

    for line in skipped:
        print(line, file=sys.stderr)
    for t in tools:
        print(f"{t.name}: runs {', '.join(f'{m.wall_s:.3f}' for m in t.runs)} s", file=sys.stderr)
    if not tools:
        print("no tool available to run", file=sys.stderr)
        return 0 if args.smoke else 2

    checked: list[tuple[str, Result]] = [(t.name, t.result) for t in tools]
    if args.smoke:
        checked.insert(0, ("exact stdlib Decimal sums", reference_sums(data)))
    problems = disagreements(checked)
    groups = len(tools[0].result)

    text = "\n".join(
        [
            markdown_table(tools, rows, size),
            "",
            f"file: `{data}`; {groups} (day, service) groups; "
            + ("all tools agree" if not problems else f"{len(problems)} DISAGREEMENTS")
            + f" within {REL_TOL:g} relative (float64 sums)",
            "start-up alone (process start + import, or `perfcore --version`), inside the wall times: "
            + ", ".join(f"{k} {v:.3f} s" for k, v in imports.items()),
            machine_line(),
        ]
    )
    print(text)
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n", encoding="utf-8")
    if problems:
        for line in problems[:20]:
            print("disagreement:", line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
