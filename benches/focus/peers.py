#!/usr/bin/env python3
"""FOCUS import benchmark: perfcore against pandas, polars and DuckDB on one CSV.

Two tasks (``--task``, default both), over the same FOCUS 1.0 CSV made by
``focus_gen.py``:

* ``day-service`` -- the sum of BilledCost grouped by (UTC day of
  ChargePeriodStart, ServiceName), returned to the caller.  perfcore's answer
  is ``cost import`` then ``cost report --by day,service --period all
  --format json``; its row is the sum of the two processes' wall times (peak
  RSS the larger), and the import alone and the report alone are shown as
  separate, parenthesised rows.
* ``full`` -- what ``perfcore cost import`` computes and persists: per (UTC
  day of ChargePeriodStart, the 20 columns of ``FULL_KEYS``: BillingPeriodStart,
  18 dimension columns and BillingPeriodEnd) the sums of the six
  ``FULL_METRICS`` and the row count, written to disk: DuckDB ``CREATE TABLE
  agg AS SELECT ... GROUP BY ALL`` into a fresh .duckdb file, polars
  ``scan_csv ... group_by ... agg ... collect()`` then ``write_parquet``,
  pandas ``groupby(dropna=False)`` then ``to_parquet``.  The word NULL and
  empty fields (quoted or not) are null in every peer, and nulls form a group.
  perfcore's row is ``cost import --format json`` alone.  After the runs an
  untimed check (DuckDB, in the venv) reads every output back and compares
  group counts, row counts and every group's sums; it also reads perfcore's
  ``cost.sqlite`` (view ``daily_costs``) and compares it group by group with
  the CSV keyed the way perfcore keys (NULL and '' one value, the billing
  period as dates, the case normalisations the import summary lists).

Each tool runs as a whole separate process (interpreter start and library
import included, as a user would pay them), one after another, never two at
once, best of ``--runs`` (default 3) on a warm page cache (one untimed ``cat
FILE > /dev/null`` first); every perfcore run uses a fresh ``--dir`` (removed
before each run) and every peer run writes its output afresh.  Wall time is
measured around the process; peak RSS comes from ``/usr/bin/time -f %M`` when
it exists, else from ``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process
that runs only the measured command.  ``/proc/loadavg`` is printed before
each tool (the box may be shared).

The peers (their exact calls are in the ``peer_*`` and ``full_*`` functions):

* pandas -- ``read_csv(usecols=..., dtype=..., na_values=[...])``, the day
  from ``to_datetime(..., format=..., utc=True).dt.floor('D')``, then
  ``groupby``.
* polars -- ``scan_csv(..., null_values=[...])``, the day from
  ``str.to_datetime(..., time_zone='UTC').dt.date()``, then
  ``group_by(...).agg(...).collect()``.
* DuckDB -- ``read_csv(..., nullstr=..., types={...})`` with the used columns'
  types given explicitly, ``CAST(ChargePeriodStart AS DATE)``, ``GROUP BY ALL``.

All peers sum in float64, so their results can differ in the last bits with
summation order; they must agree within 1e-6 relative (plus 1e-9 absolute, for
groups whose sum is near zero: the data is quantised at 1e-11).  perfcore sums
decimals exactly; its figures are read as float for the comparison.  The
script fails (exit 1) when anything disagrees.

The data file defaults to ``target/bench-data/focus_<rows>.csv`` (under the
git-ignored target/), regenerated only when it is missing or its
``.sha256`` stamp (over the generator, the sample, rows and seed) changed.
The peers run with the bench venv's python (``target/bench-venv``, made by
``setup-venv.sh``).

Examples::

    bash benches/focus/setup-venv.sh
    python3 benches/focus/peers.py --rows 300000 --perfcore target/release/perfcore
    python3 benches/focus/peers.py --rows 300000 --task full --perfcore target/release/perfcore
    python3 benches/focus/peers.py --smoke --perfcore target/release/perfcore
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


# --------------------------------------------------------------------------
# Task "full": what `perfcore cost import` computes and persists
# --------------------------------------------------------------------------

# The group keys besides the day: BillingPeriodStart, the 18 dimension columns
# perfcore keeps and BillingPeriodEnd (which perfcore stores with each group).
FULL_KEYS = (
    "BillingPeriodStart",
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ChargeCategory",
    "ChargeFrequency",
    "PricingUnit",
    "ConsumedUnit",
    "CommitmentDiscountId",
    "CommitmentDiscountType",
    "CommitmentDiscountStatus",
    "BillingCurrency",
    "Tags",
    "BillingPeriodEnd",
)
FULL_METRICS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity", "ConsumedQuantity")
# Both the word NULL and an empty field (quoted or not) are null, in every peer.
NULL_WORDS = ["NULL", ""]


def full_pandas(path: str, out: str) -> str:
    """pandas: read 27 columns, day from the timestamp, groupby(dropna=False), sums and size, to_parquet."""
    import pandas as pd  # noqa: PLC0415

    dtype = {k: "str" for k in FULL_KEYS} | {"ChargePeriodStart": "str"} | {m: "float64" for m in FULL_METRICS}
    df = pd.read_csv(path, usecols=list(dtype), dtype=dtype, na_values=NULL_WORDS, keep_default_na=False)
    df["day"] = pd.to_datetime(df["ChargePeriodStart"], format="%Y-%m-%d %H:%M:%S", utc=True).dt.floor("D")
    agg = df.groupby(["day", *FULL_KEYS], dropna=False, sort=False).agg(
        **{m: (m, "sum") for m in FULL_METRICS}, rows=("BilledCost", "size")
    )
    agg.reset_index().to_parquet(out, index=False)
    return pd.__version__


def full_polars(path: str, out: str) -> str:
    """polars: scan_csv, day from the timestamp, group_by (nulls are a group), sums and len, write_parquet."""
    import polars as pl  # noqa: PLC0415

    schema = {k: pl.String for k in FULL_KEYS} | {"ChargePeriodStart": pl.String} | {m: pl.Float64 for m in FULL_METRICS}
    frame = (
        pl.scan_csv(path, null_values=NULL_WORDS, schema_overrides=schema)
        .group_by(
            pl.col("ChargePeriodStart").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC").dt.date().alias("day"),
            *FULL_KEYS,
        )
        .agg(*[pl.col(m).sum() for m in FULL_METRICS], pl.len().alias("rows"))
        .collect()
    )
    frame.write_parquet(out)
    return pl.__version__


def full_duckdb(path: str, out: str) -> str:
    """DuckDB: CREATE TABLE agg AS SELECT ... FROM read_csv(...) GROUP BY ALL, into a fresh .duckdb file."""
    import duckdb  # noqa: PLC0415

    quoted = path.replace("'", "''")
    types = {k: "VARCHAR" for k in FULL_KEYS} | {"ChargePeriodStart": "TIMESTAMP"} | {m: "DOUBLE" for m in FULL_METRICS}
    types_sql = ", ".join(f"'{k}': '{v}'" for k, v in types.items())
    keys = ", ".join(f'"{k}"' for k in FULL_KEYS)
    sums = ", ".join(f'sum("{m}") AS "{m}"' for m in FULL_METRICS)
    con = duckdb.connect(out)
    con.execute(
        f"""
        CREATE TABLE agg AS
        SELECT CAST(ChargePeriodStart AS DATE) AS day, {keys}, {sums}, count(*) AS rows
        FROM read_csv('{quoted}', header = true, nullstr = ['NULL', ''],
                      timestampformat = '%Y-%m-%d %H:%M:%S', types = {{{types_sql}}})
        GROUP BY ALL
        """
    )
    con.close()
    return duckdb.__version__


FULL_FUNCTIONS: dict[str, Callable[[str, str], str]] = {
    "pandas": full_pandas,
    "polars": full_polars,
    "duckdb": full_duckdb,
}
FULL_SUFFIX = {"pandas": ".parquet", "polars": ".parquet", "duckdb": ".duckdb"}

# perfcore's `daily_costs` view columns, in FULL_KEYS order.
PERFCORE_KEY_COLUMNS = (
    "billing_period_start",
    "provider",
    "billing_account_id",
    "sub_account_id",
    "resource_id",
    "resource_name",
    "resource_type",
    "service_name",
    "service_category",
    "region_id",
    "charge_category",
    "charge_frequency",
    "pricing_unit",
    "consumed_unit",
    "commitment_discount_id",
    "commitment_discount_type",
    "commitment_discount_status",
    "currency",
    "tags",
    "billing_period_end",
)
PERFCORE_METRIC_COLUMNS = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "pricing_quantity",
    "consumed_quantity",
)


def check_full(spec: dict) -> dict:
    """Untimed check of the "full" outputs, run in the venv's python with DuckDB.

    ``spec``: {"csv": path, "outputs": {tool: path}, "perfcore_sqlite": path or None,
    "normalised": perfcore's import-summary "normalised" list}.  Reads every
    output back, counts its groups, rows and column totals, compares every
    group's sums with DuckDB's (null-safe join on all 21 keys), and compares
    perfcore's stored groups with DuckDB's groups re-aggregated the way perfcore
    keys them (NULL and '' one value, dates for the billing period, the
    case normalisations its summary lists).
    """
    import sqlite3  # noqa: PLC0415

    import duckdb  # noqa: PLC0415

    con = duckdb.connect()
    keys = ["day", *FULL_KEYS]
    qk = [f'"{k}"' for k in keys]
    sel = ", ".join(["CAST(day AS DATE) AS day", *[f'"{k}"' for k in FULL_KEYS]])
    sel += ", " + ", ".join(f'coalesce("{m}", 0)::DOUBLE AS "{m}"' for m in FULL_METRICS) + ", rows::BIGINT AS rows"
    report: dict = {"tools": {}}
    for tool, path in spec["outputs"].items():
        src = f"read_parquet('{path}')"
        if path.endswith(".duckdb"):
            con.execute(f"ATTACH '{path}' AS db_{tool} (READ_ONLY)")
            src = f"db_{tool}.agg"
        con.execute(f"CREATE TABLE t_{tool} AS SELECT {sel} FROM {src}")
        totals = con.execute(
            "SELECT count(*), sum(rows), " + ", ".join(f'sum("{m}")' for m in FULL_METRICS) + f" FROM t_{tool}"
        ).fetchone()
        null_groups = con.execute(
            f"SELECT count(*) FROM t_{tool} WHERE " + " OR ".join(f"{q} IS NULL" for q in qk)
        ).fetchone()[0]
        report["tools"][tool] = {
            "groups": totals[0],
            "rows": int(totals[1] or 0),
            "totals": dict(zip(FULL_METRICS, totals[2:])),
            "groups_with_a_null_key": null_groups,
        }
    base = "duckdb" if "duckdb" in spec["outputs"] else next(iter(spec["outputs"]), None)
    on = " AND ".join(f"a.{q} IS NOT DISTINCT FROM b.{q}" for q in qk)
    bad = " OR ".join(
        f'abs(a."{m}" - b."{m}") > greatest({REL_TOL} * greatest(abs(a."{m}"), abs(b."{m}")), {ABS_TOL})'
        for m in [*FULL_METRICS, "rows"]
    )
    for tool in spec["outputs"]:
        if tool == base:
            continue
        only_a, only_b, differ = con.execute(
            f"""SELECT count(*) FILTER (WHERE b.rows IS NULL), count(*) FILTER (WHERE a.rows IS NULL),
                       count(*) FILTER (WHERE a.rows IS NOT NULL AND b.rows IS NOT NULL AND ({bad}))
                FROM t_{base} a FULL OUTER JOIN t_{tool} b ON {on}"""
        ).fetchone()
        report["tools"][tool]["vs_" + base] = {"only_in_" + base: only_a, "only_in_" + tool: only_b, "sums_differ": differ}

    # The CSV grouped the way perfcore keys its aggregates, straight from the file.
    quoted = spec["csv"].replace("'", "''")
    con.execute(
        f"""CREATE VIEW raw AS SELECT * FROM read_csv('{quoted}', header = true, all_varchar = true,
            nullstr = ['NULL', ''])"""
    )
    norm: dict[str, dict[str, str]] = {}
    for n in spec.get("normalised") or []:
        norm.setdefault(n["column"], {})[n["from"]] = n["to"]

    def pc_key(k: str) -> str:
        if k in ("BillingPeriodStart", "BillingPeriodEnd"):
            return f'CAST(CAST("{k}" AS TIMESTAMP) AS DATE)::VARCHAR AS "{k}"'
        expr = f"coalesce(\"{k}\", '')"
        if k in norm:
            cases = " ".join(f"WHEN '{f}' THEN '{t}'" for f, t in norm[k].items())
            expr = f"CASE {expr} {cases} ELSE {expr} END"
        return f'{expr} AS "{k}"'

    pc_sel = ", ".join(["CAST(CAST(ChargePeriodStart AS TIMESTAMP) AS DATE)::VARCHAR AS day", *map(pc_key, FULL_KEYS)])
    pc_sums = ", ".join(f'coalesce(sum(CAST("{m}" AS DOUBLE)), 0) AS "{m}"' for m in FULL_METRICS)
    con.execute(f"CREATE TABLE pc_norm AS SELECT {pc_sel}, {pc_sums}, count(*) AS rows FROM raw GROUP BY ALL")
    report["groups_raw_csv"] = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT CAST(CAST(ChargePeriodStart AS TIMESTAMP) AS DATE), "
        + ", ".join(f'"{k}"' for k in FULL_KEYS)
        + " FROM raw)"
    ).fetchone()[0]
    report["groups_null_is_empty"] = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT CAST(CAST(ChargePeriodStart AS TIMESTAMP) AS DATE), "
        + ", ".join(f"coalesce(\"{k}\", '')" for k in FULL_KEYS)
        + " FROM raw)"
    ).fetchone()[0]
    report["groups_perfcore_keying"] = con.execute("SELECT count(*) FROM pc_norm").fetchone()[0]

    if spec.get("perfcore_sqlite"):
        db = sqlite3.connect(f"file:{spec['perfcore_sqlite']}?mode=ro", uri=True)
        cols = ["day", *PERFCORE_KEY_COLUMNS, *PERFCORE_METRIC_COLUMNS, "rows", "service_subcategory", "extra"]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM daily_costs").fetchall()
        db.close()
        con.execute(
            "CREATE TABLE pc (day VARCHAR, "
            + ", ".join(f'"{k}" VARCHAR' for k in FULL_KEYS)
            + ", "
            + ", ".join(f'"{m}" DOUBLE' for m in FULL_METRICS)
            + ", rows BIGINT, service_subcategory VARCHAR, extra VARCHAR)"
        )
        if rows:
            import pandas as pd  # noqa: PLC0415

            frame = pd.DataFrame(rows, columns=["day", *FULL_KEYS, *FULL_METRICS, "rows", "service_subcategory", "extra"])
            con.register("pc_frame", frame)
            con.execute("INSERT INTO pc SELECT * FROM pc_frame")
        totals = con.execute(
            "SELECT count(*), sum(rows), " + ", ".join(f'sum("{m}")' for m in FULL_METRICS) + " FROM pc"
        ).fetchone()
        nonempty = con.execute("SELECT count(*) FROM pc WHERE service_subcategory <> '' OR extra <> ''").fetchone()[0]
        on2 = " AND ".join(f"a.{q} = b.{q}" for q in qk)
        only_a, only_b, differ = con.execute(
            f"""SELECT count(*) FILTER (WHERE b.rows IS NULL), count(*) FILTER (WHERE a.rows IS NULL),
                       count(*) FILTER (WHERE a.rows IS NOT NULL AND b.rows IS NOT NULL AND ({bad}))
                FROM pc_norm a FULL OUTER JOIN pc b ON {on2}"""
        ).fetchone()
        report["perfcore_store"] = {
            "groups": totals[0],
            "rows": int(totals[1] or 0),
            "totals": dict(zip(FULL_METRICS, totals[2:])),
            "groups_with_subcategory_or_extra": nonempty,
            "vs_csv_perfcore_keying": {"only_in_csv": only_a, "only_in_perfcore": only_b, "sums_differ": differ},
        }
    return report


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

    The shape (perfcore 0.1.0)::

        {"dimensions": ["day", "service"], "metric": "billed",
         "period": {"from": "2024-09-01", "to": "2024-09-30"},
         "rows": [{"day": "2024-09-01", "service": "AWS Lambda",
                   "billed_cost": "12.34567890123", "currency": "USD",
                   "rows": 5}, ...],
         "total": {"USD": "..."}}

    ``billed_cost`` is a decimal string (a number is accepted too); ``day``
    may carry a time part, of which only the date is kept.  Rows of several
    currencies for one (day, service) are added (the benchmark data is all USD;
    the checks list the currencies seen).
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
    """All runs of one tool (or one part of perfcore's pair), its version and its result."""

    name: str
    version: str = ""
    runs: list[Measurement] = field(default_factory=list)
    result: Result = field(default_factory=dict)
    part: bool = False  # one step of a tool's whole job: shown, but not a ratio baseline
    load_before: str = ""  # /proc/loadavg just before the tool's first run
    output: str = ""  # task "full": the file the last run wrote

    @property
    def best_wall(self) -> float:
        """The best (smallest) wall time."""
        return min(m.wall_s for m in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        """The largest peak RSS over the runs, in MB (10^6 bytes)."""
        return max(m.peak_rss_kib for m in self.runs) * 1024 / 1e6


def loadavg() -> str:
    """The first three fields of /proc/loadavg (1, 5 and 15 minutes)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def python_peer_available(python: Path, name: str) -> bool:
    """Whether ``python`` can import the peer's library."""
    module = {"pandas": "pandas", "polars": "polars", "duckdb": "duckdb"}[name]
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


def run_python_peer(python: Path, name: str, data: Path, runs: int, work: Path, task: str) -> ToolRun:
    """Run one Python peer ``runs`` times, each as a fresh ``python peers.py --peer`` process.

    For task "full" each run writes its output afresh (the file is removed first).
    """
    tool = ToolRun(name=name)
    result_file = work / f"{task}-{name}.tsv"
    argv = [str(python), str(Path(__file__).resolve()), "--peer", name, "--task", task, "--file", str(data)]
    argv += ["--result", str(result_file)]
    out = work / f"full-{name}{FULL_SUFFIX[name]}"
    if task == "full":
        argv += ["--out", str(out)]
    for _ in range(runs):
        result_file.unlink(missing_ok=True)
        for stale in (out, out.with_name(out.name + ".wal")):
            stale.unlink(missing_ok=True)
        tool.runs.append(measure(argv))
    tool.version, tool.result = read_result(result_file)
    if task == "full":
        tool.output = str(out)
    return tool


def perfcore_status(binary: Path) -> str | None:
    """None when ``binary`` can run ``cost``; else why it is skipped."""
    if not binary.exists():
        return f"perfcore skipped: {binary} does not exist"
    probe = subprocess.run([str(binary), "cost", "--help"], capture_output=True)
    if probe.returncode != 0:
        return f"perfcore skipped: `{binary} cost --help` exited {probe.returncode} (no `cost` command in this build)"
    return None


def perfcore_version(binary: Path) -> str:
    """``perfcore --version`` without the name."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    return out.removeprefix("perfcore ").strip()


def file_sha256(path: Path) -> str:
    """The file's sha256 (the perfcore binary's, to notice a rebuild during the runs)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def perfcore_import_argv(binary: Path, store: Path, data: Path) -> list[str]:
    """The measured import: ``perfcore --dir STORE cost import FILE --format json``."""
    return [str(binary), "--dir", str(store), "cost", "import", str(data), "--format", "json"]


def perfcore_report_argv(binary: Path, store: Path) -> list[str]:
    """The measured report: ``perfcore --dir STORE cost report --by day,service --period all --format json``."""
    return [str(binary), "--dir", str(store), "cost", "report", "--by", "day,service", "--period", "all", "--format", "json"]


def read_import_summaries(path: Path) -> list[dict]:
    """The import summaries ``cost import --format json`` printed (a list, one per file)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, list) else [doc]


def run_perfcore_day_service(binary: Path, data: Path, runs: int, work: Path) -> tuple[list[ToolRun], dict]:
    """Run ``cost import`` then ``cost report`` ``runs`` times, each pair in a fresh store.

    Returns three rows -- the pair (wall = sum of the two processes, peak RSS =
    the larger), the import alone and the report alone -- and facts for the
    checks (the report's row counts and the import's aggregate count).
    """
    version = perfcore_version(binary)
    sha_before = file_sha256(binary)
    pair = ToolRun(name="perfcore (import + report)", version=version)
    imp = ToolRun(name="perfcore import alone", version=version, part=True)
    rep = ToolRun(name="perfcore report alone", version=version, part=True)
    report_file = work / "perfcore-report.json"
    summary_file = work / "perfcore-import.json"
    store = work / "perfcore-store"
    for _ in range(runs):
        shutil.rmtree(store, ignore_errors=True)
        imported = measure(perfcore_import_argv(binary, store, data), stdout_path=summary_file)
        reported = measure(perfcore_report_argv(binary, store), stdout_path=report_file)
        imp.runs.append(imported)
        rep.runs.append(reported)
        pair.runs.append(
            Measurement(imported.wall_s + reported.wall_s, max(imported.peak_rss_kib, reported.peak_rss_kib))
        )
        shutil.rmtree(store, ignore_errors=True)
    text = report_file.read_text(encoding="utf-8")
    pair.result = parse_perfcore_report(text)
    doc = json.loads(text)
    facts = {
        "report_rows": sum(int(r.get("rows", 0)) for r in doc["rows"]),
        "report_currencies": sorted({str(r.get("currency")) for r in doc["rows"]}),
        "aggregates": sum(int(s.get("aggregates", 0)) for s in read_import_summaries(summary_file)),
        "sha256": (sha_before, file_sha256(binary)),
    }
    return [pair, imp, rep], facts


def run_perfcore_full(binary: Path, data: Path, runs: int, work: Path) -> tuple[ToolRun, dict]:
    """Run ``cost import --format json`` ``runs`` times, each in a fresh store; keep the last store for the check."""
    tool = ToolRun(name="perfcore import", version=perfcore_version(binary))
    sha_before = file_sha256(binary)
    summary_file = work / "perfcore-full-import.json"
    store = work / "perfcore-full-store"
    for _ in range(runs):
        shutil.rmtree(store, ignore_errors=True)
        tool.runs.append(measure(perfcore_import_argv(binary, store, data), stdout_path=summary_file))
    summaries = read_import_summaries(summary_file)
    tool.output = str(store / "cost.sqlite")
    facts = {
        "aggregates": sum(int(s.get("aggregates", 0)) for s in summaries),
        "rows_imported": sum(int(s.get("rows_imported", 0)) for s in summaries),
        "rows_skipped": sum(int(s.get("rows_skipped", 0)) for s in summaries),
        "normalised": [n for s in summaries for n in s.get("normalised", [])],
        "nulls": [s.get("nulls", {}) for s in summaries],
        "sha256": (sha_before, file_sha256(binary)),
    }
    return tool, facts


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


def reference_full_groups(path: Path) -> tuple[int, int]:
    """Exact (stdlib csv) group count for task "full": (peers' keying, perfcore's keying minus case normalisation).

    The first treats NULL and empty as one null value, like the peers; the second
    is the same here (the stdlib csv module cannot tell a quoted "" from an empty
    field), so both are returned for the smoke test's cross-check of the peers.
    """
    import csv  # noqa: PLC0415

    groups: set[tuple] = set()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["ChargePeriodStart"][:10],) + tuple(
                None if row[k] in ("NULL", "") else row[k] for k in FULL_KEYS
            )
            groups.add(key)
    return len(groups), len(groups)


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
    """The results as a Markdown table, fastest first; "ratio vs fastest" is against the fastest whole tool.

    Rows marked ``part`` (perfcore's import alone, report alone) are one step of
    a whole tool's job; they get a ratio too but are never the baseline.
    """
    whole = [t for t in tools if not t.part] or list(tools)
    fastest = min(t.best_wall for t in whole)
    mb = size_bytes / 1e6
    lines = [
        f"{rows:,} rows, {mb:,.1f} MB (`{size_bytes:,}` bytes), best of {len(tools[0].runs)} runs each",
        "",
        "| tool | version | wall s (best) | peak RSS MB | rows/s | MB/s | ratio vs fastest |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in sorted(tools, key=lambda t: t.best_wall):
        w = t.best_wall
        name = f"({t.name})" if t.part else t.name
        cells = [name, t.version, f"{w:.3f}", f"{t.peak_rss_mb:,.0f}", f"{rows / w:,.0f}", f"{mb / w:,.1f}"]
        lines.append("| " + " | ".join([*cells, f"{w / fastest:.2f}x"]) + " |")
    lines.append("")
    lines.append("Runs (s): " + "; ".join(f"{t.name} " + " / ".join(f"{m.wall_s:.3f}" for m in t.runs) for t in tools))
    lines.append("")
    lines.append(
        "Load average (/proc/loadavg 1/5/15 min) before each tool: "
        + "; ".join(f"{t.name} {t.load_before}" for t in tools if t.load_before)
        + f"; after all: {loadavg()}"
    )
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

TASKS = ("day-service", "full")


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
        "--task",
        default=",".join(TASKS),
        help="comma-separated tasks: day-service (sum of BilledCost by day and service), "
        "full (everything perfcore's import aggregates, written to disk); default both",
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_ROWS} rows, 1 run, only the tools available, plus exact stdlib checks",
    )
    p.add_argument("--markdown-out", type=Path, help="also write the tables (and machine line) to this file")
    # Internal: run one peer in this process (used by the measured subprocesses),
    # or check the "full" outputs (an untimed subprocess in the venv's python).
    p.add_argument("--peer", choices=sorted(PEER_FUNCTIONS), help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--check-full", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_tools(
    task: str, wanted: Sequence[str], args: argparse.Namespace, python: Path, data: Path, work: Path
) -> tuple[list[ToolRun], list[str], dict] | int:
    """Run every wanted tool for one task, one after another; an int is an exit code."""
    tools: list[ToolRun] = []
    skipped: list[str] = []
    facts: dict = {}
    for name in wanted:
        if name in PYTHON_PEERS:
            if not python_peer_available(python, name):
                if args.smoke:
                    skipped.append(f"{name} skipped: not importable by {python}")
                    continue
                print(f"{name} is not importable by {python}", file=sys.stderr)
                return 2
            load = loadavg()
            print(f"[{task}] loadavg {load}; running {name} x{args.runs} ...", file=sys.stderr)
            tool = run_python_peer(python, name, data, args.runs, work, task)
            tool.load_before = load
            tools.append(tool)
        elif name == "perfcore":
            if args.perfcore is None:
                skipped.append("perfcore skipped: no --perfcore given")
                continue
            why = perfcore_status(args.perfcore)
            if why:
                skipped.append(why)
                continue
            load = loadavg()
            print(f"[{task}] loadavg {load}; running perfcore x{args.runs} ...", file=sys.stderr)
            if task == "day-service":
                rows_, facts["perfcore"] = run_perfcore_day_service(args.perfcore, data, args.runs, work)
                rows_[0].load_before = load
                tools.extend(rows_)
            else:
                tool, facts["perfcore"] = run_perfcore_full(args.perfcore, data, args.runs, work)
                tool.load_before = load
                tools.append(tool)
        else:
            print(f"unknown tool {name!r}", file=sys.stderr)
            return 2
    return tools, skipped, facts


def binary_note(binary: Path | None, facts: dict) -> tuple[list[str], list[str]]:
    """A line naming the perfcore binary and its sha256; a problem when it changed during the runs."""
    pc = facts.get("perfcore")
    if not pc or "sha256" not in pc:
        return [], []
    before, after = pc["sha256"]
    if before == after:
        return [f"perfcore binary: `{binary}`, sha256 {before[:16]}, unchanged during its runs"], []
    return [], [f"the perfcore binary {binary} changed during the runs ({before[:16]} -> {after[:16]}): rerun"]


def day_service_notes(tools: list[ToolRun], facts: dict, data: Path, rows: int, smoke: bool) -> tuple[list[str], list[str]]:
    """The day-service checks: every tool's sums against the first's (and exact sums in smoke)."""
    checked: list[tuple[str, Result]] = [(t.name, t.result) for t in tools if not t.part]
    if smoke:
        checked.insert(0, ("exact stdlib Decimal sums", reference_sums(data)))
    problems = disagreements(checked)
    groups = len(checked[0][1]) if checked else 0
    notes = [
        f"{groups} (day, service) groups; "
        + ("all tools agree" if not problems else f"{len(problems)} DISAGREEMENTS")
        + f" within {REL_TOL:g} relative (float64 sums; perfcore's decimal strings read as float) among: "
        + ", ".join(n for n, _ in checked)
    ]
    pc = facts.get("perfcore")
    if pc:
        ok = pc["report_rows"] == rows
        notes.append(
            f"perfcore report: its groups' `rows` add up to {pc['report_rows']:,} "
            f"({'=' if ok else '!='} the file's {rows:,} rows); currencies {', '.join(pc['report_currencies'])}; "
            f"the import stored {pc['aggregates']:,} aggregates"
        )
        if not ok:
            problems.append(f"perfcore report rows {pc['report_rows']} != file rows {rows}")
    return notes, problems


def full_notes(tools: list[ToolRun], facts: dict, data: Path, python: Path, work: Path, smoke: bool) -> tuple[list[str], list[str]]:
    """The "full" checks: group counts, rows and totals of every output, per-group agreement."""
    pc = facts.get("perfcore")
    spec = {
        "csv": str(data),
        "outputs": {t.name: t.output for t in tools if t.name in PYTHON_PEERS},
        "perfcore_sqlite": next((t.output for t in tools if t.name.startswith("perfcore")), None),
        "normalised": pc["normalised"] if pc else [],
    }
    spec_file = work / "check-full.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    if not python_peer_available(python, "duckdb"):
        return ["full: no check (DuckDB not importable)"], []
    proc = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--check-full", str(spec_file)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return [], [f"check-full failed: {proc.stderr[-2000:]}"]
    rep = json.loads(proc.stdout)
    problems: list[str] = []
    notes: list[str] = []
    rows = count_rows(data)
    notes.append(
        f"Group counts straight from the CSV (DuckDB, untimed): {rep['groups_raw_csv']:,} with NULL and empty as null "
        f"(the peers' keying); {rep['groups_null_is_empty']:,} with NULL and '' as one value ''; "
        f"{rep['groups_perfcore_keying']:,} keyed as perfcore keys (NULL = '', billing period as dates, and the "
        f"normalisations its import summary lists: "
        + (", ".join(f"{n['column']} {n['from']!r}->{n['to']!r} ({n['rows']} rows)" for n in spec["normalised"]) or "none")
        + ")"
    )
    lines = ["| output | groups | rows | sum BilledCost | sum EffectiveCost | groups with a null key | per-group vs DuckDB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in rep["tools"].items():
        vs = next((v for k, v in r.items() if k.startswith("vs_")), None)
        vs_text = ", ".join(f"{k} {v}" for k, v in vs.items()) if vs else "(reference)"
        lines.append(
            f"| {name} | {r['groups']:,} | {r['rows']:,} | {r['totals']['BilledCost']:.6f} | "
            f"{r['totals']['EffectiveCost']:.6f} | {r['groups_with_a_null_key']:,} | {vs_text} |"
        )
        if r["groups"] != rep["groups_raw_csv"]:
            problems.append(f"{name}: {r['groups']} groups, the CSV has {rep['groups_raw_csv']}")
        if r["rows"] != rows:
            problems.append(f"{name}: rows add up to {r['rows']}, the file has {rows}")
        if vs and any(vs.values()):
            problems.append(f"{name} vs DuckDB: {vs}")
    ps = rep.get("perfcore_store")
    if ps:
        v = ps["vs_csv_perfcore_keying"]
        lines.append(
            f"| perfcore (cost.sqlite `daily_costs`) | {ps['groups']:,} | {ps['rows']:,} | {ps['totals']['BilledCost']:.6f} | "
            f"{ps['totals']['EffectiveCost']:.6f} | n/a (NULL stored as '') | vs the CSV keyed as perfcore keys: "
            + ", ".join(f"{k} {x}" for k, x in v.items())
            + " |"
        )
        if pc and pc["aggregates"] != ps["groups"]:
            problems.append(f"perfcore summary says {pc['aggregates']} aggregates, its store has {ps['groups']}")
        if ps["rows"] != rows:
            problems.append(f"perfcore: rows add up to {ps['rows']}, the file has {rows}")
        if any(v.values()):
            problems.append(f"perfcore vs the CSV keyed its way: {v}")
        if ps["groups_with_subcategory_or_extra"]:
            notes.append(f"perfcore: {ps['groups_with_subcategory_or_extra']} groups have a ServiceSubcategory or extra value")
    if pc:
        notes.append(
            f"perfcore import summary: aggregates {pc['aggregates']:,}, rows imported {pc['rows_imported']:,}, "
            f"skipped {pc['rows_skipped']:,}"
        )
    if smoke:
        exact, _ = reference_full_groups(data)
        notes.append(f"stdlib csv check: {exact:,} groups (NULL and empty as null)")
        if exact != rep["groups_raw_csv"]:
            problems.append(f"stdlib csv finds {exact} groups, DuckDB {rep['groups_raw_csv']}")
    return [*notes, "", *lines], problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: make or find the data, run the tools per task, check them, print the tables."""
    args = parse_args(argv)
    if args.peer:
        if args.task == "full":
            version = FULL_FUNCTIONS[args.peer](str(args.file), str(args.out))
            write_result(args.result, version, {})
        else:
            version, result = PEER_FUNCTIONS[args.peer](str(args.file))
            write_result(args.result, version, result)
        return 0
    if args.check_full:
        print(json.dumps(check_full(json.loads(args.check_full.read_text(encoding="utf-8"))), default=float))
        return 0

    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    tasks = [t.strip() for t in args.task.split(",") if t.strip()]
    for task in tasks:
        if task not in TASKS:
            print(f"unknown task {task!r} (known: {', '.join(TASKS)})", file=sys.stderr)
            return 2
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

    sections: list[str] = []
    all_problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="focus-peers-") as tmp:
        work = Path(tmp)
        for task in tasks:
            ran = run_tools(task, wanted, args, python, data, work)
            if isinstance(ran, int):
                return ran
            tools, skipped, facts = ran
            for line in skipped:
                print(line, file=sys.stderr)
            if not tools:
                print(f"[{task}] no tool available to run", file=sys.stderr)
                if args.smoke:
                    continue
                return 2
            if task == "day-service":
                notes, problems = day_service_notes(tools, facts, data, rows, args.smoke)
            else:
                notes, problems = full_notes(tools, facts, data, python, work, args.smoke)
            more_notes, more_problems = binary_note(args.perfcore, facts)
            notes += more_notes
            problems += more_problems
            all_problems += [f"[{task}] {p}" for p in problems]
            sections += [f"### task {task}", "", markdown_table(tools, rows, size), "", *notes, ""]
            if problems:
                sections.append(f"{len(problems)} PROBLEMS (see stderr)")
                sections.append("")

    text = "\n".join([*sections, f"file: `{data}`", machine_line()])
    print(text)
    if args.markdown_out:
        args.markdown_out.write_text(text + "\n", encoding="utf-8")
    if all_problems:
        for line in all_problems[:40]:
            print("problem:", line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
