#!/usr/bin/env python3
"""Generate a large, deterministic FOCUS 1.0 cost-and-usage CSV from the real sample.

The FOCUS sample (``../shared/data/focus/focus_sample.csv`` from the repo root:
1,000 rows, 44 columns, FinOps FOCUS project, CC BY 4.0) is used as a set of
*template rows*.  Every output row is a copy of one template row, picked
uniformly at random, so the output is weighted like the sample (AWS ~94 %,
Microsoft ~5 %, Oracle ~1 %; the same ServiceName mix, NULL rates, the
``Usage-based`` spelling variant, Tags JSON with its `` org`` keys, ...).

Only these columns are changed per row (plus the sample's non-spec ``Id``
column, which becomes the 1-based output row number so that it stays a unique
row id instead of repeating each template's id ~rows/1000 times); everything else is copied verbatim,
byte for byte, from the template (so the quoting style is exactly the
sample's: strings quoted with ``"``, numbers and the word ``NULL`` bare):

* ``ChargePeriodStart`` / ``ChargePeriodEnd`` -- hourly templates get a start
  drawn uniformly over the 720 hours of September 2024 and end = start + 1 h;
  daily templates (the Microsoft rows, end - start = 1 day) get a day drawn
  uniformly over September at 00:00:00 and end = start + 1 day.
* ``ResourceId`` -- drawn from a pool of about ``rows / 50`` ids with Zipf-like
  weights (s = 1.1).  The pool is split across (ProviderName, ServiceName)
  groups in proportion to the sample's non-NULL rows; each group starts with
  the sample's own ids for that group (most frequent first) and is topped up
  with ids of the same shape (the trailing token's digits and letters
  replaced by random ones of the same class).  Templates whose ResourceId is
  NULL keep NULL.
* ``BilledCost`` = template BilledCost x a lognormal factor
  (mu = -sigma^2 / 2, sigma = 1, so the factor's mean is 1), quantised to 11
  decimals like the sample (the sign is kept: the sample has negative rows).
  ``ListCost``, ``EffectiveCost`` and ``ContractedCost`` are scaled by the same
  factor where the template has a number (NULL stays NULL).

Output is a function of (sample bytes, --rows, --seed) only.  Standard
library only; ``--parquet`` additionally needs pyarrow and writes the same
rows as Parquet (Snappy) with:

* the four timestamp columns as ``timestamp[us, tz=UTC]``;
* the four cost columns (BilledCost, ListCost, EffectiveCost, ContractedCost)
  as ``decimal128(38, 11)`` -- exact, the same digits as the CSV;
* the other columns the sample writes bare (ConsumedQuantity,
  ContractedUnitPrice, PricingQuantity) as ``float64``, ``Id`` as ``int64``;
* everything the sample quotes as ``string`` (this includes ListUnitPrice and
  BillingAccountId, which the sample quotes, and ChargeClass, which is NULL
  on every row); a CSV ``NULL`` is a Parquet
  null, a quoted empty string ``""`` stays an empty string.

Example::

    python3 benches/focus/focus_gen.py --rows 1000000 --seed 1 \\
        --out target/bench-data/focus_1000000.csv
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

DEFAULT_SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "focus" / "focus_sample.csv"

EXPECTED_COLUMNS = 44
COST_COLUMNS = ("BilledCost", "ListCost", "EffectiveCost", "ContractedCost")
TIMESTAMP_COLUMNS = ("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
MONTH_START = datetime(2024, 9, 1)
MONTH_DAYS = 30
ROWS_PER_RESOURCE_ID = 50
ZIPF_EXPONENT = 1.1
LOGNORMAL_SIGMA = 1.0
BATCH_ROWS = 20_000
NULL = "NULL"


# --------------------------------------------------------------------------
# Reading the sample
# --------------------------------------------------------------------------


def split_raw_line(line: str) -> list[str]:
    """Split one CSV line into its *raw* fields, quotes and doubled quotes kept.

    For example ``a,"say ""hi"" now",NULL`` has the three raw fields ``a``,
    ``"say ""hi"" now"`` (quotes kept) and ``NULL``.  Joining the
    result with ``,`` gives the line back unchanged, which is what lets the
    generator copy untouched fields byte for byte.  The sample has no
    embedded newlines, so one physical line is one record.
    """
    fields: list[str] = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            j = i + 1
            while True:
                j = line.index('"', j)
                if j + 1 < n and line[j + 1] == '"':
                    j += 2
                    continue
                break
            fields.append(line[i : j + 1])
            i = j + 1
            if i < n and line[i] != ",":
                raise ValueError(f"text after closing quote at column {i}: {line[:80]!r}")
        else:
            j = line.find(",", i)
            if j < 0:
                j = n
            fields.append(line[i:j])
            i = j
        if i >= n:
            return fields
        i += 1  # skip the comma
        if i == n:  # trailing comma: one last empty field
            fields.append("")
            return fields


def unquote(raw: str) -> str | None:
    """Value of a raw field: ``NULL`` -> None, ``"x""y"`` -> ``x"y``, bare -> as is."""
    if raw == NULL:
        return None
    if raw.startswith('"'):
        return raw[1:-1].replace('""', '"')
    return raw


def quote(value: str) -> str:
    """Quote a string field the way the sample does."""
    return '"' + value.replace('"', '""') + '"'


@dataclass
class Sample:
    """The sample's header, raw template rows and what the generator needs of them."""

    header: list[str]
    raw_rows: list[list[str]]
    col: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.col = {name: i for i, name in enumerate(self.header)}

    def value(self, row: int, column: str) -> str | None:
        """Unquoted value of ``column`` in template ``row`` (None for NULL)."""
        return unquote(self.raw_rows[row][self.col[column]])


def read_sample(path: Path) -> Sample:
    """Read the FOCUS sample as raw fields and check it has the expected shape."""
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.split("\n") if ln]
    header_raw = split_raw_line(lines[0])
    header = [unquote(h) or "" for h in header_raw]
    if len(header) != EXPECTED_COLUMNS:
        raise SystemExit(f"{path}: expected {EXPECTED_COLUMNS} columns, found {len(header)}")
    missing = [
        c for c in COST_COLUMNS + TIMESTAMP_COLUMNS + ("ResourceId", "ProviderName", "ServiceName") if c not in header
    ]
    if missing:
        raise SystemExit(f"{path}: missing columns {missing}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = split_raw_line(line)
        if len(fields) != len(header):
            raise SystemExit(f"{path}:{number}: {len(fields)} fields, expected {len(header)}")
        rows.append(fields)
    return Sample(header=header, raw_rows=rows)


# --------------------------------------------------------------------------
# Building the pools
# --------------------------------------------------------------------------


def mutate_id(base: str, rng: random.Random) -> str:
    """A new id with ``base``'s shape: its last token's characters re-drawn by class.

    The last token is the run after the final ``/``, ``:``, ``.`` or ``-``;
    digits become random digits, lower-case letters random lower-case
    letters, upper-case letters random upper-case letters.
    """
    cut = max(base.rfind(sep) for sep in "/:.-") + 1
    head, tail = base[:cut], base[cut:]
    out = []
    for ch in tail:
        if ch.isdigit():
            out.append(chr(48 + rng.randrange(10)))
        elif "a" <= ch <= "z":
            out.append(chr(97 + rng.randrange(26)))
        elif "A" <= ch <= "Z":
            out.append(chr(65 + rng.randrange(26)))
        else:
            out.append(ch)
    return head + "".join(out)


@dataclass
class IdGroup:
    """The ResourceId pool of one (ProviderName, ServiceName) group."""

    raw_ids: list[str]  # already quoted, ready to write
    cum_weights: list[float]

    def pick(self, rng_random: float) -> int:
        """Index of the id chosen by a uniform draw in [0, 1)."""
        return bisect.bisect_right(self.cum_weights, rng_random * self.cum_weights[-1])


def build_id_pools(sample: Sample, rows: int, rng: random.Random) -> dict[tuple[str, str], IdGroup]:
    """Build the ResourceId pools, about ``rows / 50`` ids in all (at least one per group)."""
    total = max(1, round(rows / ROWS_PER_RESOURCE_ID))
    per_group: dict[tuple[str, str], Counter[str]] = {}
    for r in range(len(sample.raw_rows)):
        rid = sample.value(r, "ResourceId")
        if rid is None:
            continue
        key = (sample.value(r, "ProviderName") or "", sample.value(r, "ServiceName") or "")
        per_group.setdefault(key, Counter())[rid] += 1
    non_null = sum(sum(c.values()) for c in per_group.values())
    pools: dict[tuple[str, str], IdGroup] = {}
    for key in sorted(per_group):
        counts = per_group[key]
        share = sum(counts.values()) / non_null
        size = max(1, round(total * share))
        # Most frequent sample ids first (ties by first appearance, which Counter keeps).
        seeds = [rid for rid, _ in counts.most_common()]
        ids = seeds[:size]
        seen = set(ids)
        j = 0
        while len(ids) < size:
            base = seeds[j % len(seeds)]
            j += 1
            new = mutate_id(base, rng)
            tries = 0
            while new in seen and tries < 8:
                new = mutate_id(base, rng)
                tries += 1
            if new in seen:
                new = f"{base}-{len(ids)}"
            seen.add(new)
            ids.append(new)
        weights = [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(ids))]
        cum = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        pools[key] = IdGroup(raw_ids=[quote(i) for i in ids], cum_weights=cum)
    return pools


@dataclass
class Template:
    """One sample row prepared for fast copying."""

    raw: list[str]
    daily: bool
    id_group: IdGroup | None  # None: the template's ResourceId is NULL
    costs: list[tuple[int, float]]  # (column index, template value) for numeric cost fields


def build_templates(sample: Sample, pools: dict[tuple[str, str], IdGroup]) -> list[Template]:
    """Prepare every sample row as a template."""
    out = []
    for r, raw in enumerate(sample.raw_rows):
        start = datetime.strptime(sample.value(r, "ChargePeriodStart") or "", TIMESTAMP_FORMAT)
        end = datetime.strptime(sample.value(r, "ChargePeriodEnd") or "", TIMESTAMP_FORMAT)
        length = end - start
        if length == timedelta(days=1):
            daily = True
        elif length == timedelta(hours=1):
            daily = False
        else:
            raise SystemExit(f"sample row {r + 2}: charge period of {length}, expected 1 h or 1 day")
        if sample.value(r, "ResourceId") is None:
            group = None
        else:
            group = pools[(sample.value(r, "ProviderName") or "", sample.value(r, "ServiceName") or "")]
        costs = []
        for c in COST_COLUMNS:
            v = sample.value(r, c)
            if v is not None:
                costs.append((sample.col[c], float(v)))
        out.append(Template(raw=raw, daily=daily, id_group=group, costs=costs))
    return out


# --------------------------------------------------------------------------
# Generating rows
# --------------------------------------------------------------------------


def period_starts() -> tuple[list[datetime], list[datetime]]:
    """The hourly and the daily charge-period starts of September 2024."""
    hours = [MONTH_START + timedelta(hours=h) for h in range(MONTH_DAYS * 24)]
    days = [MONTH_START + timedelta(days=d) for d in range(MONTH_DAYS)]
    return hours, days


def format_cost(value: float) -> str:
    """A cost with 11 decimals like the sample, never ``-0.00000000000``."""
    text = f"{value:.11f}"
    if text.startswith("-") and text.strip("-0.") == "":
        return text[1:]
    return text


@dataclass
class Batch:
    """Up to BATCH_ROWS generated rows, as raw CSV fields plus what Parquet needs."""

    lines: list[str]
    template_index: list[int]
    row_id: list[int]
    start: list[datetime]
    end: list[datetime]
    resource_id: list[str | None]  # unquoted; None for NULL
    costs: dict[str, list[str | None]]


def generate(sample: Sample, rows: int, seed: int, keep_columns: bool = False) -> Iterator[Batch]:
    """Yield the generated rows in batches; deterministic in (sample, rows, seed).

    ``keep_columns`` also fills the per-row lists the Parquet writer needs;
    without it only ``lines`` is filled (faster).
    """
    rng = random.Random(seed)
    pools = build_id_pools(sample, rows, random.Random(f"ids-{seed}"))
    templates = build_templates(sample, pools)
    hours, days = period_starts()
    hour_tokens = [
        (quote(s.strftime(TIMESTAMP_FORMAT)), quote((s + timedelta(hours=1)).strftime(TIMESTAMP_FORMAT))) for s in hours
    ]
    day_tokens = [
        (quote(s.strftime(TIMESTAMP_FORMAT)), quote((s + timedelta(days=1)).strftime(TIMESTAMP_FORMAT))) for s in days
    ]
    i_start = sample.col["ChargePeriodStart"]
    i_end = sample.col["ChargePeriodEnd"]
    i_rid = sample.col["ResourceId"]
    i_id = sample.col.get("Id")
    cost_names = {sample.col[c]: c for c in COST_COLUMNS}
    n_templates = len(templates)
    n_hours = len(hours)
    n_days = len(days)
    mu = -(LOGNORMAL_SIGMA**2) / 2
    sigma = LOGNORMAL_SIGMA
    random_ = rng.random
    gauss = rng.gauss
    exp = math.exp

    produced = 0
    while produced < rows:
        count = min(BATCH_ROWS, rows - produced)
        batch = Batch(
            lines=[],
            template_index=[],
            row_id=[],
            start=[],
            end=[],
            resource_id=[],
            costs={c: [] for c in COST_COLUMNS},
        )
        lines = batch.lines
        for _ in range(count):
            t = int(random_() * n_templates)
            tmpl = templates[t]
            fields = tmpl.raw.copy()
            if i_id is not None:
                fields[i_id] = str(produced + len(lines) + 1)
            if tmpl.daily:
                k = int(random_() * n_days)
                fields[i_start], fields[i_end] = day_tokens[k]
            else:
                k = int(random_() * n_hours)
                fields[i_start], fields[i_end] = hour_tokens[k]
            group = tmpl.id_group
            if group is not None:
                fields[i_rid] = group.raw_ids[group.pick(random_())]
            factor = exp(mu + sigma * gauss())
            for i, base in tmpl.costs:
                fields[i] = format_cost(base * factor)
            lines.append(",".join(fields))
            if keep_columns:
                batch.template_index.append(t)
                batch.row_id.append(produced + len(lines))
                start = days[k] if tmpl.daily else hours[k]
                batch.start.append(start)
                batch.end.append(start + (timedelta(days=1) if tmpl.daily else timedelta(hours=1)))
                batch.resource_id.append(unquote(fields[i_rid]))
                for i, name in cost_names.items():
                    batch.costs[name].append(unquote(fields[i]))
        produced += count
        yield batch


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def open_output(path: Path, use_gzip: bool) -> TextIO:
    """Open ``path`` for writing text with a large buffer (gzip level 6 with ``--gzip``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if use_gzip:
        return gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6)
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


class ParquetSink:
    """Writes batches as Parquet (Snappy) with the column types in the module docstring."""

    def __init__(self, path: Path, sample: Sample) -> None:
        import pyarrow as pa  # noqa: PLC0415 - optional dependency
        import pyarrow.parquet as pq  # noqa: PLC0415

        self.pa = pa
        self.sample = sample
        ts = pa.timestamp("us", tz="UTC")
        dec = pa.decimal128(38, 11)
        types: list[pa.DataType] = []
        for c, name in enumerate(sample.header):
            raws = [row[c] for row in sample.raw_rows]
            if name in TIMESTAMP_COLUMNS:
                types.append(ts)
            elif name in COST_COLUMNS:
                types.append(dec)
            elif name == "Id":
                types.append(pa.int64())
            elif any(r != NULL for r in raws) and all(r == NULL or not r.startswith('"') for r in raws):
                types.append(pa.float64())
            else:
                types.append(pa.string())
        self.schema = pa.schema([pa.field(n, t) for n, t in zip(sample.header, types, strict=True)])
        # Each column's template values as an Arrow array; unchanged columns are a `take`.
        self.template_arrays = []
        for c, name in enumerate(sample.header):
            values = [unquote(row[c]) for row in sample.raw_rows]
            typ = types[c]
            if name in TIMESTAMP_COLUMNS:
                parsed = [
                    None if v is None else datetime.strptime(v, TIMESTAMP_FORMAT).replace(tzinfo=UTC) for v in values
                ]
                self.template_arrays.append(pa.array(parsed, type=typ))
            elif typ == dec:
                self.template_arrays.append(pa.array(values, type=pa.string()).cast(dec))
            elif typ == pa.int64():
                self.template_arrays.append(pa.array([None if v is None else int(v) for v in values], type=typ))
            elif typ == pa.float64():
                self.template_arrays.append(pa.array([None if v is None else float(v) for v in values], type=typ))
            else:
                self.template_arrays.append(pa.array(values, type=typ))
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="snappy")

    def write(self, batch: Batch) -> None:
        """Append one batch as a row group."""
        pa = self.pa
        idx = pa.array(batch.template_index, type=pa.int32())
        columns = []
        for c, name in enumerate(self.sample.header):
            typ = self.schema.field(c).type
            if name == "ChargePeriodStart":
                columns.append(pa.array([d.replace(tzinfo=UTC) for d in batch.start], type=typ))
            elif name == "ChargePeriodEnd":
                columns.append(pa.array([d.replace(tzinfo=UTC) for d in batch.end], type=typ))
            elif name == "ResourceId":
                columns.append(pa.array(batch.resource_id, type=typ))
            elif name == "Id":
                columns.append(pa.array(batch.row_id, type=typ))
            elif name in COST_COLUMNS:
                columns.append(pa.array(batch.costs[name], type=pa.string()).cast(typ))
            else:
                columns.append(self.template_arrays[c].take(idx))
        self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def close(self) -> None:
        """Finish the file."""
        self.writer.close()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, required=True, help="number of data rows to write")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", type=Path, help="CSV output path")
    p.add_argument("--gzip", action="store_true", help="gzip the CSV output")
    p.add_argument("--parquet", type=Path, help="also write the same rows as Parquet (needs pyarrow)")
    p.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help=f"FOCUS sample CSV (default {DEFAULT_SAMPLE})")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = p.parse_args(argv)
    if args.rows < 0:
        p.error("--rows must be >= 0")
    if args.out is None and args.parquet is None:
        p.error("give --out and/or --parquet")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: generate the CSV (and optionally Parquet) file."""
    args = parse_args(argv)
    began = time.perf_counter()
    sample = read_sample(args.sample)
    sink: ParquetSink | None = None
    if args.parquet is not None:
        try:
            sink = ParquetSink(args.parquet, sample)
        except ImportError:
            print("focus_gen: pyarrow is not importable; skipping --parquet", file=sys.stderr)
    out = open_output(args.out, args.gzip) if args.out is not None else None
    try:
        if out is not None:
            out.write(",".join(quote(h) for h in sample.header) + "\n")
        for batch in generate(sample, args.rows, args.seed, keep_columns=sink is not None):
            if out is not None:
                out.write("\n".join(batch.lines))
                out.write("\n")
            if sink is not None:
                sink.write(batch)
    finally:
        if out is not None:
            out.close()
        if sink is not None:
            sink.close()
    if not args.quiet:
        targets = ", ".join(str(p) for p in (args.out, args.parquet if sink else None) if p is not None)
        print(f"focus_gen: {args.rows} rows -> {targets} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
