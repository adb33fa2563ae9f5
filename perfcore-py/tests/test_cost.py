"""The cost monitor from Python (issue 11): seed 003's CostMonitor example, FOCUS imports
checked against an independent computation, persistence, reports and function costs."""

from __future__ import annotations

import csv
import gzip
import io
import pathlib
import textwrap
from collections import defaultdict
from contextlib import redirect_stdout
from decimal import Decimal

import pytest

import perfcore
from perfcore import CloudProvider, CostError, CostMonitor, PerformanceProfiler, ResourceType

FOCUS_SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "focus" / "focus_sample.csv"

# Seed 003's example as the seed writes it; only its two `accelerapp` imports are replaced.
SEED_003_EXAMPLE = textwrap.dedent(
    """
    from perfcore import CostMonitor, ResourceType, CloudProvider

    monitor = CostMonitor()

    # Track resource
    monitor.track_resource(
        resource_id="app-server-01",
        resource_type=ResourceType.COMPUTE,
        provider=CloudProvider.AWS,
        usage_hours=720.0,
        cost_per_hour=0.096,
        metadata={"utilization": 0.65}
    )

    # Generate cost report
    report = monitor.generate_cost_report("monthly")
    print(f"Total cost: ${report.total_cost:.2f}")
    print(f"Potential savings: ${report.estimated_savings:.2f}")

    # Get optimization opportunities
    for opp in report.optimization_opportunities:
        print(f"{opp['type']}: {opp['recommendation']}")
        print(f"Savings: ${opp['potential_savings']:.2f}")

    # Apply optimization
    result = monitor.apply_cost_optimization(opp)
    print(f"Optimization applied: {result['message']}")
    """
)


def test_seed_003_example_runs_as_written() -> None:
    out = io.StringIO()
    scope: dict[str, object] = {}
    with redirect_stdout(out):
        exec(compile(SEED_003_EXAMPLE, "seed_003_cost_example", "exec"), scope)
    text = out.getvalue()
    assert "Total cost: $69.12\n" in text, text
    # 0.096 × 730 h × the assumed 20% commitment discount = 14.016.
    assert "Potential savings: $14.02\n" in text, text
    assert "commitment: app-server-01 runs 720 of 730 hours" in text, text
    assert "Savings: $14.02\n" in text, text
    assert "Optimization applied: recorded the decision on app-server-01" in text, text
    report = scope["report"]
    assert isinstance(report, perfcore.CostReport)
    assert report.total_cost == Decimal("69.12") and report.currency == "USD"
    assert report.estimated_savings == Decimal("14.016")
    assert report.forecast is None and "insufficient history" in report.forecast_note
    opp = report.optimization_opportunities[0]
    assert opp.type == opp["type"] == "commitment"
    assert opp.potential_savings == opp["potential_savings"] == Decimal("14.016")
    assert opp.current_monthly_cost == Decimal("70.08")
    assert opp.confidence == "low" and "assumed 20%" in opp.recommendation
    assert dict(opp)["resource_id"] == "app-server-01"
    result = scope["result"]
    assert isinstance(result, perfcore.OptimizationResult)
    assert result["projected_monthly_cost"] == result.projected_monthly_cost == Decimal("56.064")
    assert result.applied_at.endswith("Z") and result.opportunity.resource_id == "app-server-01"
    monitor = scope["monitor"]
    assert isinstance(monitor, CostMonitor)
    assert [a.message for a in monitor.applied_optimizations()] == [result.message]
    (res,) = monitor.resources()
    assert res.resource_type == ResourceType.COMPUTE and res.provider == CloudProvider.AWS
    assert res.cost == Decimal("69.12") and res.usage_hours == Decimal("720")
    assert res.metadata == {"utilization": 0.65}
    assert [u["cpu"] for u in res.utilization] == [0.65]
    assert res.to_dict()["resource_type"] == "compute" and res["provider"] == CloudProvider.AWS
    assert result.to_dict()["opportunity"]["type"] == "commitment"


def test_types_and_providers() -> None:
    assert ResourceType("Networking") == ResourceType.NETWORK
    assert ResourceType("gpu") == ResourceType.other("gpu") != ResourceType.COMPUTE
    assert ResourceType.other("gpu").name == "OTHER" and str(ResourceType.other("gpu")) == "gpu"
    assert repr(ResourceType.SERVERLESS) == "ResourceType.SERVERLESS"
    assert CloudProvider("Amazon Web Services") == CloudProvider.AWS
    assert CloudProvider("Microsoft").value == "Azure"
    assert CloudProvider.other("Oracle") == CloudProvider("Oracle")
    assert len({ResourceType.COMPUTE, ResourceType("compute"), ResourceType.STORAGE}) == 2


def test_amounts_are_exact_and_arguments_checked() -> None:
    m = CostMonitor()
    m.track_resource("a", "compute", "aws", 3, Decimal("0.1"))
    m.track_resource("b", ResourceType.STORAGE, "gcp", "10", "0.2", service="bucket", tags={"team": "x"})
    m.track_resource("c", "database", CloudProvider.AZURE, 0, charges=0.3, currency="usd", region="eu")
    assert m.total("all") == Decimal("2.6")
    by_type = {r["type"]: r["cost"] for r in m.get_cost_breakdown("type", "all")}
    assert by_type == {"compute": Decimal("0.3"), "storage": Decimal("2.0"), "database": Decimal("0.3")}
    rows = m.get_cost_breakdown(["provider", "tag:team"], "all")
    assert {(r["provider"], r["tag:team"]) for r in rows} == {("AWS", "(untagged)"), ("GCP", "x"), ("Azure", "(untagged)")}
    assert all(r["keys"] == [r["provider"], r["tag:team"]] and r["currency"] == "USD" and r["rows"] == 1 for r in rows)
    assert m.untrack_resource("c") and not m.untrack_resource("c")
    with pytest.raises(ValueError, match="negative"):
        m.track_resource("d", "compute", "aws", 1, -1)
    with pytest.raises(ValueError, match="not a fraction"):
        m.track_resource("d", "compute", "aws", 1, 1, {"utilization": 1.5})
    with pytest.raises(ValueError, match="dimension"):
        m.get_cost_breakdown("colour")
    with pytest.raises(ValueError, match="report period"):
        m.generate_cost_report("fortnightly")
    with pytest.raises(ValueError, match="currency"):
        m.track_resource("d", "compute", "aws", 1, 1, currency="US$")
    with pytest.raises(TypeError):
        m.track_resource("d", "compute", "aws", True)
    with pytest.raises(ValueError, match="finite"):
        m.track_resource("d", "compute", "aws", float("nan"))
    with pytest.raises(ValueError, match="does not fit"):
        m.track_resource("d", "compute", "aws", 10**40)
    with pytest.raises(TypeError, match="decimal.Decimal"):
        m.track_resource("d", "compute", "aws", [1])  # type: ignore[arg-type]
    m.track_resource("e", "compute", "aws", Decimal("1E+1"), "1e-2")
    assert next(r for r in m.resources() if r.resource_id == "e").cost == Decimal("0.1")
    with pytest.raises(ValueError, match="both"):
        m.total(from_="2024-09-01")
    forecast = m.get_cost_forecast(7)
    assert forecast["forecast"] is None and forecast["days"] == 7 and forecast["note"]
    # One day of tracked costs: the insufficient-history answer, not a guess.
    assert forecast["insufficient_history"] == [{"keys": [], "currency": "USD", "days": 1, "needed": 14}]
    assert forecast["daily"] == [] and forecast["method"] is None
    with pytest.raises(ValueError, match="horizon"):
        m.get_cost_forecast(0)
    with pytest.raises(ValueError, match="interval level"):
        m.get_cost_forecast(7, level=1.5)


def test_mixed_currencies_need_rates() -> None:
    m = CostMonitor()
    m.track_resource("a", "compute", "aws", 1, charges=10)
    m.track_resource("b", "compute", "aws", 1, charges=10, currency="EUR")
    with pytest.raises(CostError, match="exchange rates"):
        m.total("all")
    m.set_exchange_rates({"EUR": "1.10"}, target="USD")
    assert m.total("all") == Decimal("21")
    report = m.generate_cost_report("all")
    assert report.totals_by_currency == {"EUR": Decimal("10"), "USD": Decimal("10")}
    assert any("currencies" in n for n in report.notes)


def focus_rows() -> list[dict[str, str]]:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_null(value: str) -> bool:
    return value.strip() == "" or value.strip().upper() == "NULL"


def expected_totals(rows: list[dict[str, str]]) -> dict[str, dict[str, Decimal]]:
    """Totals per provider, service and UTC day of ChargePeriodStart, computed here."""
    providers = {"AWS": "AWS", "Amazon Web Services": "AWS", "Microsoft": "Azure", "Azure": "Azure"}
    out: dict[str, dict[str, Decimal]] = {"provider": defaultdict(Decimal), "service": defaultdict(Decimal), "day": defaultdict(Decimal)}
    for r in rows:
        cost = Decimal(r["BilledCost"])
        out["provider"][providers.get(r["ProviderName"], r["ProviderName"])] += cost
        out["service"]["(none)" if is_null(r["ServiceName"]) else r["ServiceName"]] += cost
        # The sample's timestamps are UTC without a zone ("2024-09-18 22:00:00").
        out["day"][r["ChargePeriodStart"][:10]] += cost
    return {k: dict(v) for k, v in out.items()}


def breakdown_map(m: CostMonitor, by: str) -> dict[str, Decimal]:
    rows = m.get_cost_breakdown(by, "all")
    assert len({r[by] for r in rows}) == len(rows), "one row per key (one currency)"
    return {r[by]: r["cost"] for r in rows}


def test_focus_sample_totals_match_an_independent_computation() -> None:
    rows = focus_rows()
    m = CostMonitor()
    summary = m.import_focus(FOCUS_SAMPLE)
    assert summary.outcome == "imported" and summary["outcome"] == "imported"
    assert (summary.rows_read, summary.rows_imported, summary.rows_skipped) == (1000, 1000, 0)
    assert summary.format == "csv" and summary.focus_version.startswith("1.")
    total = sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    assert summary.billed == {"USD": total}
    assert m.total("all") == total
    expected = expected_totals(rows)
    for by in ("provider", "service", "day"):
        assert breakdown_map(m, by) == expected[by], by
    assert set(expected["provider"]) == {"AWS", "Azure", "Oracle"}
    assert "FOCUS" in summary.describe() and "1000 rows read" in summary.describe()
    d = summary.to_dict()
    assert d["billed"] == {"USD": total} and d["skipped"] == [] and set(d) == set(summary.keys())
    assert '"rows_imported": 1000' in summary.to_json()
    (record,) = m.imports()
    assert record["rows_imported"] == 1000 and record["digest"] == summary.digest

    again = m.import_focus(FOCUS_SAMPLE)
    assert again.outcome == "already_imported" and again.previous
    assert "already imported" in again.describe()
    assert m.total("all") == total and len(m.imports()) == 1
    for by in ("provider", "service", "day"):
        assert breakdown_map(m, by) == expected[by], by


def test_parquet_sample_imports_as_the_csv_does() -> None:
    parquet = FOCUS_SAMPLE.with_suffix(".parquet")
    m = CostMonitor()
    summary = m.import_focus(parquet)
    assert summary.format == "parquet" and summary.rows_imported == 1000
    expected = expected_totals(focus_rows())
    for by in ("provider", "service", "day"):
        assert breakdown_map(m, by) == expected[by], by


def test_forecast_of_the_sample() -> None:
    m = CostMonitor()
    m.import_focus(FOCUS_SAMPLE)
    f = m.get_cost_forecast()
    assert f["days"] == 30 and f["as_of"] == "2024-09-30" and f["level"] == 0.8
    assert isinstance(f["forecast"], Decimal) and f["currency"] == "USD"
    assert f["lower"] <= f["forecast"] <= f["upper"]
    assert f["method"] in {"damped_holt_winters", "seasonal_naive"} and f["reason"]
    assert 0.0 <= f["backtest"]["coverage"] <= 1.0 and f["backtest"]["mase"] > 0
    assert [d["day"] for d in f["daily"][:2]] == ["2024-10-01", "2024-10-02"] and len(f["daily"]) == 30
    assert all(d["lower"] <= d["expected"] <= d["upper"] for d in f["daily"])
    # The sample ends on the month's last day: the month ends at its actual cost.
    assert f["month_end"]["month"] == "2024-09" and f["month_end"]["remaining_days"] == 0
    assert f["month_end"]["expected"] == f["month_end"]["actual"] == Decimal("20.52")
    assert "series" not in f
    by = m.get_cost_forecast(14, by="service")
    assert by["forecast"] == m.get_cost_forecast(14)["forecast"]
    assert by["series"] and all(len(s["daily"]) == 14 and s["service"] == s["keys"][0] for s in by["series"])
    assert all(i["days"] < i["needed"] == 14 for i in by["insufficient_history"])
    assert m.generate_cost_report("all").forecast == f["forecast"]


def test_report_of_an_import(tmp_path: pathlib.Path) -> None:
    m = CostMonitor()
    m.import_focus(FOCUS_SAMPLE)
    report = m.generate_cost_report(from_="2024-09-01", to="2024-09-30")
    assert (report.period, report.start, report.end) == ("2024-09-01..2024-09-30", "2024-09-01", "2024-09-30")
    assert report.total_cost == m.total(from_="2024-09-01", to="2024-09-30")
    assert sum((d["cost"] for d in report.daily), Decimal(0)) == report.total_cost
    assert report.daily[0]["day"] == "2024-09-01"
    by_provider = next(b for b in report.breakdowns if b["dimensions"] == ["provider"])
    assert sum((r["cost"] for r in by_provider["rows"]), Decimal(0)) == report.total_cost
    assert report.top_resources and report.top_resources[0]["cost"] >= report.top_resources[-1]["cost"]
    assert any("credits" in n for n in report.notes)
    d = report.to_dict()
    assert d["total_cost"] == report.total_cost and d["optimization_opportunities"] == []
    text = report.to_text()
    cents = f"{report.total_cost:,.2f}"
    assert f"Total cost: {cents} USD" in text
    assert f"{cents} USD" in report.to_markdown()
    assert '"total_cost"' in report.to_json()
    page = tmp_path / "cost.html"
    report.write_html(page)
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and f"{cents} USD" in html and html == report.to_html()


def bad_copy(
    tmp_path: pathlib.Path, row: int, column: str, value: str, terminator: str = "\n"
) -> tuple[pathlib.Path, int, Decimal]:
    """The sample with data row `row` (0-based) given `value` in `column`, lines ending in
    `terminator`: its path, the line the row is on (the header is line 1) and the BilledCost
    of the other rows."""
    rows = focus_rows()
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    rows[row][column] = value
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator=terminator)
        w.writeheader()
        w.writerows(rows)
    rest = sum((Decimal(r["BilledCost"]) for i, r in enumerate(rows) if i != row), Decimal(0))
    return path, row + 2, rest


def test_lenient_import_reports_the_bad_row(tmp_path: pathlib.Path) -> None:
    path, line, rest = bad_copy(tmp_path, 5, "BilledCost", "12,5")
    m = CostMonitor()
    summary = m.import_focus(path)
    assert (summary.rows_read, summary.rows_imported, summary.rows_skipped) == (1000, 999, 1)
    (skip,) = summary.skipped
    assert (skip["line"], skip["column"], skip["value"]) == (line, "BilledCost", "12,5")
    assert skip["reason"] and skip["billed_cost"] is None
    assert f"line {line}: column BilledCost" in summary.describe()
    assert m.total("all") == rest


def test_lenient_import_line_numbers_with_crlf(tmp_path: pathlib.Path) -> None:
    path, line, _ = bad_copy(tmp_path, 5, "BilledCost", "12,5", terminator="\r\n")
    (skip,) = CostMonitor().import_focus(path).skipped
    assert skip["line"] == line


def test_strict_import_names_line_and_column(tmp_path: pathlib.Path) -> None:
    path, line, _ = bad_copy(tmp_path, 7, "ChargePeriodStart", "yesterday")
    m = CostMonitor()
    with pytest.raises(CostError) as caught:
        m.import_focus(path, strict=True)
    err = caught.value
    assert isinstance(err, perfcore.PerfcoreError)
    assert f":{line}: column ChargePeriodStart" in str(err)
    assert (err.line, err.column, err.value) == (line, "ChargePeriodStart", "yesterday")
    assert err.path == str(path)
    assert m.imports() == [] and m.total("all") == 0


def test_import_errors(tmp_path: pathlib.Path) -> None:
    m = CostMonitor()
    with pytest.raises(FileNotFoundError):
        m.import_focus(tmp_path / "missing.csv")
    not_focus = tmp_path / "x.csv"
    not_focus.write_text("a,b\n1,2\n")
    fake_parquet = tmp_path / "x.parquet"
    fake_parquet.write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    with pytest.raises(CostError) as caught_parquet:
        m.import_focus(fake_parquet)
    assert caught_parquet.value.path == str(fake_parquet)
    with pytest.raises(CostError, match="not a FOCUS file") as caught:
        m.import_focus(not_focus)
    assert caught.value.path == str(not_focus)
    with pytest.raises(ValueError, match="mode"):
        m.import_focus(FOCUS_SAMPLE, mode="merge")  # type: ignore[arg-type]
    # The same billing periods from another file: refused, then replaced.
    copy = tmp_path / "copy.csv"
    rows = FOCUS_SAMPLE.read_text(encoding="utf-8")
    m.import_focus(FOCUS_SAMPLE)
    copy.write_text(rows.replace("0.00000080000", "0.00000090000", 1), encoding="utf-8")
    with pytest.raises(CostError, match="already imported"):
        m.import_focus(copy)
    replaced = m.import_focus(copy, mode="replace")
    assert replaced.outcome == "replaced" and replaced.previous == [str(FOCUS_SAMPLE)]
    assert replaced.previous_billed["USD"] > 0


def test_keep_columns_gzip_and_several_files(tmp_path: pathlib.Path) -> None:
    m = CostMonitor()
    (s,) = m.import_focus_files([FOCUS_SAMPLE], keep_columns=["Id"])
    assert s.outcome == "imported"
    rows = m.get_cost_breakdown("column:Id", "all")
    assert len(rows) > 1 and sum((r["cost"] for r in rows), Decimal(0)) == m.total("all")
    # The sample in two parts of one delivery, gzipped: the same totals.
    lines = FOCUS_SAMPLE.read_bytes().splitlines(keepends=True)
    parts = [tmp_path / "part-1.csv.gz", tmp_path / "part-2.csv.gz"]
    for part, body in zip(parts, (lines[1:400], lines[400:])):
        part.write_bytes(gzip.compress(lines[0] + b"".join(body)))
    two = CostMonitor()
    summaries = two.import_focus_files(parts)
    assert [x.format for x in summaries] == ["csv.gz", "csv.gz"]
    assert sum(x.rows_imported for x in summaries) == 1000
    assert two.total("all") == m.total("all")


def test_store_persists_across_monitors(tmp_path: pathlib.Path) -> None:
    first = CostMonitor(tmp_path)
    assert first.store_path == str(tmp_path / "cost.sqlite")
    first.import_focus(FOCUS_SAMPLE)
    first.track_resource("app-server-01", ResourceType.COMPUTE, CloudProvider.AWS, 720, "0.096")
    second = CostMonitor(dir=tmp_path)
    assert [r["path"] for r in second.imports()] == [str(FOCUS_SAMPLE)]
    assert [r.resource_id for r in second.resources()] == ["app-server-01"]
    assert second.import_focus(FOCUS_SAMPLE).outcome == "already_imported"
    assert second.total("all") == first.total("all")
    (opp,) = second.identify_optimization_opportunities()
    applied = second.apply_cost_optimization(opp.to_dict())
    assert applied.opportunity.resource_id == "app-server-01"
    assert [a.applied_at for a in first.applied_optimizations()] == [applied.applied_at]
    with pytest.raises(ValueError, match="no current"):
        second.apply_cost_optimization({"type": "commitment", "resource_id": "nope"})


def test_own_commitment_rate() -> None:
    m = CostMonitor(commitment_discount="0.31")
    m.track_resource("vm", "compute", "aws", 730, "0.1")
    (opp,) = m.identify_optimization_opportunities()
    assert opp.potential_savings == Decimal("22.63") and opp.confidence == "medium"
    with pytest.raises(ValueError, match="commitment_discount"):
        CostMonitor(commitment_discount=2)


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total ^= i * 31
    return total


def test_function_costs_of_a_real_snapshot() -> None:
    profiler = PerformanceProfiler()
    profiler.profile_function(spin, 200, 5_000, name="spin")
    snap = profiler.snapshot()
    costs = perfcore.function_costs(snap, vcpu_hour=0.048)
    (c,) = [c for c in costs if c.name == "spin"]
    stats = snap["spin"]
    assert c.calls == stats.count and c["calls"] == c.calls and c.self_ns == stats.self_ns
    # Self time in hours × 0.048. The divisions do not end, and rust_decimal keeps 28 decimal
    # places (not 28 significant digits): a per-call cost of 3e-9 keeps 20 digits.
    def close(a: Decimal, b: Decimal) -> bool:
        return abs(a - b) <= max(abs(b) * Decimal("1e-15"), Decimal("1e-27"))

    assert close(c.cpu_cost, Decimal(stats.self_ns) * Decimal("0.048") / Decimal(3_600_000_000_000))
    assert c.total_cost == c.cpu_cost and c.memory_cost == 0 and c.currency == "USD"
    assert close(c.cost_per_call, c.total_cost / c.calls)
    assert close(c.cost_per_million_calls, c.cost_per_call * 1_000_000)
    assert c.monthly_cost is None or c.monthly_cost > 0
    assert isinstance(c.to_dict()["cost_per_call"], Decimal)
    eur = perfcore.function_costs(snap, "0.05", gib_hour="0.005", currency="EUR")
    assert {x.currency for x in eur} == {"EUR"}
    with pytest.raises(ValueError, match="negative"):
        perfcore.function_costs(snap, -1)


def test_reports_of_a_snapshot_carry_function_costs() -> None:
    profiler = perfcore.PerformanceProfiler()
    for _ in range(50):
        with profiler.scope("checkout.total"):
            sum(range(2000))
    snap = profiler.snapshot()
    md = snap.to_markdown(vcpu_hour=Decimal("0.048"))
    assert "### Cost of each function" in md and "`checkout.total`" in md
    assert "### Cost of each function" not in snap.to_markdown()
    page = snap.to_html(vcpu_hour=0.048, gib_hour="0.006")
    assert 'id="costs"' in page and "checkout.total" in page
    with pytest.raises(ValueError):
        snap.to_markdown(vcpu_hour=-1)


NOW = 1_790_000_000


def test_opportunity_rules_from_python() -> None:
    m = CostMonitor()
    m.set_opportunity_options(
        now=NOW,
        prices=[
            {"provider": "aws", "region": "us-east-1", "sku": "m5.large", "price": "0.1"},
            {"provider": "gcp", "region": "us-central1", "sku": "m5.large", "price": 0.08},
        ],
    )
    # A reading is taken when it is tracked: far from NOW, so it is outside the lookback.
    m.track_resource("vm", "compute", "aws", 100, "0.1", {"sku": "m5.large"}, region="us-east-1")
    m.track_resource("old", "compute", "aws", 100, "0.1", last_activity_unix=NOW - 24 * 3600 - 1)
    m.track_resource("busy", "compute", "aws", 100, "0.1", last_activity_unix=NOW - 24 * 3600)
    opps = {(o.type, o.resource_id): o for o in m.identify_optimization_opportunities()}
    assert set(opps) == {("provider_disparity", "vm"), ("idle", "old")}
    move = opps[("provider_disparity", "vm")]
    # (0.10 − 0.08) × 730 h.
    assert move["potential_savings"] == Decimal("14.6") and move.source == "tracked"
    assert move.confidence == "medium" and "migration" in move.confidence_reason
    assert opps[("idle", "old")].potential_savings == Decimal("73")
    for o in opps.values():
        assert o.potential_savings <= o.current_monthly_cost


def test_underutilised_now_and_the_options_checked() -> None:
    m = CostMonitor()
    m.track_resource("vm", "compute", "aws", 100, "0.1", {"utilization": 0.29, "memory": 0.9})
    m.track_resource("ok", "compute", "aws", 100, "0.1", {"utilization": 0.30, "memory": 0.9})
    (opp,) = m.identify_optimization_opportunities()
    assert opp["type"] == "underutilized" and opp.resource_id == "vm"
    assert opp.potential_savings == Decimal("36.5") and opp.confidence == "low"
    m.set_opportunity_options(underutilized_cpu=0.2)
    assert m.identify_optimization_opportunities() == []
    with pytest.raises(ValueError, match="underutilised CPU threshold"):
        m.set_opportunity_options(underutilized_cpu=1.5)
    with pytest.raises(KeyError, match="sku"):
        m.set_opportunity_options(prices=[{"provider": "aws", "region": "x", "price": 1}])


def test_savings_compare_projected_with_realised() -> None:
    m = CostMonitor()
    m.set_opportunity_options(now=NOW, commitment_discount="0.3")
    m.track_resource("vm", "compute", "aws", 730, "0.1")
    (opp,) = m.identify_optimization_opportunities()
    result = m.apply_cost_optimization(opp)
    assert "cannot change cloud resources" in result["message"]
    (before,) = m.savings()
    assert before["projected_monthly_cost"] == Decimal("51.1")
    assert before["realised_savings"] == Decimal("0")
    # The commitment bought: the rate paid now.
    m.track_resource("vm", "compute", "aws", 730, "0.07")
    m.set_opportunity_options(now=NOW + 2 * 86_400)
    (after,) = m.savings()
    assert after["realised_monthly_cost"] == Decimal("51.1")
    assert after["realised_savings"] == after["projected_savings"] == Decimal("21.9")
    assert after["evidence_days"] == 2 and after["type"] == "commitment"
    report = m.generate_cost_report("all")
    assert "Applied optimisations: projected vs realised" in report.to_text()
    assert report.applied_optimizations == [after]
