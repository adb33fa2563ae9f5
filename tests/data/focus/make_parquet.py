"""Writes focus_sample.parquet from focus_sample.csv, as a FOCUS Parquet export holds it, and
focus_sample_map_tags.parquet: the same with Tags as a map<string, string> (as AWS writes
them in Parquet) and an extra list column perfcore does not read (x_Labels).

Typed as cloud exports type them: the four cost columns decimal128(38, 11) (exact, the CSV's
digits), the four date columns timestamp[us, UTC], other numbers float64, everything else
strings; NULL (the word or an empty field) is a Parquet null. Snappy-compressed. Needs pyarrow
(the bench venv has it: `bash benches/focus/setup-venv.sh`); the output is committed, so the
tests do not.

    target/bench-venv/bin/python tests/data/focus/make_parquet.py
"""

import csv
import datetime as dt
import decimal
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
COSTS = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost"}
TIMES = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
NUMBERS = {"ConsumedQuantity", "ContractedUnitPrice", "ListUnitPrice", "PricingQuantity"}


def null(v: str) -> bool:
    return v == "" or v.upper() == "NULL"


def main() -> None:
    with open(HERE / "focus_sample.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = {}
    for name in rows[0]:
        values = [r[name] for r in rows]
        if name in COSTS:
            data = [None if null(v) else decimal.Decimal(v) for v in values]
            columns[name] = pa.array(data, type=pa.decimal128(38, 11))
        elif name in TIMES:
            data = [None if null(v) else dt.datetime.fromisoformat(v).replace(tzinfo=dt.timezone.utc) for v in values]
            columns[name] = pa.array(data, type=pa.timestamp("us", tz="UTC"))
        elif name in NUMBERS:
            columns[name] = pa.array([None if null(v) else float(v) for v in values], type=pa.float64())
        else:
            columns[name] = pa.array([None if null(v) else v for v in values], type=pa.string())
    pq.write_table(pa.table(columns), HERE / "focus_sample.parquet", compression="snappy")
    tags = [None if null(r["Tags"]) else json.loads(r["Tags"]) for r in rows]
    columns["Tags"] = pa.array(
        [None if t is None else [(k, str(v)) for k, v in t.items()] for t in tags],
        type=pa.map_(pa.string(), pa.string()),
    )
    columns["x_Labels"] = pa.array([[r["ServiceName"], r["RegionId"]] for r in rows], type=pa.list_(pa.string()))
    pq.write_table(pa.table(columns), HERE / "focus_sample_map_tags.parquet", compression="snappy")


if __name__ == "__main__":
    main()
