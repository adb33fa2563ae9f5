"""Cost anomalies and budgets from Python (issue 12), on FOCUS files written here."""

from __future__ import annotations

import csv
import datetime
import pathlib
import random
from decimal import Decimal
from typing import Any

import pytest

from perfcore import CostMonitor

COLUMNS = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
    "ResourceId", "Tags",
]  # fmt: skip


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = day.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, end


def write_focus(path: pathlib.Path, rows: list[tuple[datetime.date, str, str, Decimal, str]]) -> pathlib.Path:
    """A FOCUS 1.0 file of daily charges: (day, service, resource, cost, tags JSON)."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for day, service, resource, cost, tags in rows:
            start, end = month_bounds(day)
            values = {
                "BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "ContractedCost": cost,
                "BillingAccountId": "111", "BillingAccountName": "test", "BillingCurrency": "USD",
                "BillingPeriodStart": f"{start}T00:00:00Z", "BillingPeriodEnd": f"{end}T00:00:00Z",
                "ChargeCategory": "Usage", "ChargeDescription": f"{service} usage",
                "ChargePeriodStart": f"{day}T00:00:00Z",
                "ChargePeriodEnd": f"{day + datetime.timedelta(days=1)}T00:00:00Z",
                "InvoiceIssuerName": "AWS", "ProviderName": "AWS", "PublisherName": "AWS",
                "PricingQuantity": 24, "PricingUnit": "Hours", "ServiceCategory": "Compute",
                "ServiceName": service, "ResourceId": resource, "Tags": tags,
            }  # fmt: skip
            w.writerow([values.get(c, "") for c in COLUMNS])
    return path


START = datetime.date(2024, 8, 1)


def history(spike_day: int | None = None) -> list[tuple[datetime.date, str, str, Decimal, str]]:
    """60 days of web (two instances, a weekly cycle) and db, from 2024-08-01."""
    rng = random.Random(3)
    rows = []
    for i in range(60):
        day = START + datetime.timedelta(days=i)
        weekend = day.weekday() >= 5
        jitter = Decimal(rng.randint(-150, 150)) / 100
        for resource, base in (("web-1", 60), ("web-2", 40)):
            cost = Decimal(base) * (Decimal("0.6") if weekend else 1) + jitter
            if i == spike_day and resource == "web-2":
                cost += 500
            rows.append((day, "web", resource, cost, '{"team": "web"}'))
        rows.append((day, "db", "db-1", Decimal(50) + jitter, '{"team": "data"}'))
    return rows


def monitor_with(tmp_path: pathlib.Path, rows: list[Any]) -> CostMonitor:
    m = CostMonitor(tmp_path / ".perfcore")
    m.import_focus(write_focus(tmp_path / "bill.csv", rows))
    return m


def test_a_known_spike_is_found_with_its_driver(tmp_path: pathlib.Path) -> None:
    m = monitor_with(tmp_path, history(spike_day=45))
    found = m.detect_cost_anomalies("service")
    assert len(found) == 1, found
    a = found[0]
    assert a["day"] == "2024-09-15"
    assert (a["dimension"], a["key"], a["direction"]) == ("service", "web", "increase")
    assert isinstance(a["impact"], Decimal) and Decimal(450) < a["impact"] < Decimal(550)
    assert a["currency"] == "USD"
    assert a["spreads"] > 4
    assert a["actual"] > a["upper"] > a["expected"] > a["lower"]
    assert a["drivers"][0]["resource"] == "web-2"
    assert "service web" in a["description"]
    # The same day per resource; nothing in a window that leaves it out; nothing when only
    # drops are... not asked for but the threshold is out of reach.
    per_resource = m.detect_cost_anomalies("resource")
    assert [(x["key"], x["day"]) for x in per_resource] == [("web-2", "2024-09-15")]
    assert m.detect_cost_anomalies("service", days=10) == []
    assert m.detect_cost_anomalies("service", start="2024-08-01", end="2024-09-10") == []
    assert m.detect_cost_anomalies("service", threshold=1000.0) == []
    assert len(m.detect_cost_anomalies(None)) == 1


def test_a_plain_weekly_cycle_raises_none(tmp_path: pathlib.Path) -> None:
    m = monitor_with(tmp_path, history())
    for by in ("total", "service", "resource", "tag:team"):
        assert m.detect_cost_anomalies(by) == [], by


def test_anomaly_arguments_are_checked(tmp_path: pathlib.Path) -> None:
    m = monitor_with(tmp_path, history())
    with pytest.raises(ValueError, match="colour"):
        m.detect_cost_anomalies("colour")
    with pytest.raises(ValueError, match="threshold"):
        m.detect_cost_anomalies(threshold=-1.0)
    with pytest.raises(ValueError, match="both start and end"):
        m.detect_cost_anomalies(start="2024-08-01")


def test_budgets_alert_once_through_the_callback(tmp_path: pathlib.Path) -> None:
    rows = history()
    m = CostMonitor(tmp_path / ".perfcore")
    b = m.add_budget("web", 2000, scope={"tag:team": "web"}, thresholds=["50:actual", (100, "forecast")])
    assert b["description"] == "web: 2000 USD monthly for tag:team=web; alerts at 50% actual, 100% forecast"
    fired: list[dict[str, Any]] = []
    m.on_budget_alert(fired.append)
    # Import August's first ten days, then the rest a week at a time, checking each time.
    cuts = [10, 17, 24, 31]
    done = 0
    for n, cut in enumerate(cuts):
        part = [r for r in rows if done <= (r[0] - START).days < cut]
        m.import_focus(write_focus(tmp_path / f"part{n}.csv", part), mode="append")
        status = m.check_budgets()
        done = cut
        if n == 0:
            # 10 days: too little history to forecast, and 870 of 2000 spent is under 50%.
            assert status[0]["forecast"] is None
            assert "insufficient history" in status[0]["forecast_note"]
            assert fired == []
    # web spends ~87 a day: 50% (1000) is crossed on the 12th; August ends near 2,700.
    kinds = [a["threshold"] for a in fired]
    assert kinds == [
        {"percent": "50", "basis": "actual"},
        {"percent": "100", "basis": "forecast"},
    ], fired
    assert fired[0]["as_of"] == "2024-08-17"  # the check after the import that crossed it
    assert isinstance(fired[0]["actual"], Decimal) and fired[0]["currency"] == "USD"
    assert "budget web" in fired[1]["message"]
    # Checking again fires nothing; a second monitor on the same store remembers too.
    m.check_budgets()
    again = CostMonitor(tmp_path / ".perfcore")
    calls: list[dict[str, Any]] = []
    again.on_budget_alert(calls.append)
    status = again.check_budgets()
    assert calls == [] and status[0]["new_alerts"] == []
    assert len(again.budget_alerts()) == 2
    assert [x["name"] for x in again.budgets()] == ["web"]
    assert again.remove_budget("web") and not again.remove_budget("web")


def test_a_callback_that_raises_propagates_after_the_alert_is_kept(tmp_path: pathlib.Path) -> None:
    m = monitor_with(tmp_path, history())
    m.add_budget("all", 100)

    def broken(alert: dict[str, Any]) -> None:
        raise RuntimeError(f"pager down for {alert['budget']}")

    m.on_budget_alert(broken)
    with pytest.raises(RuntimeError, match="pager down for all"):
        m.check_budgets()
    assert len(m.budget_alerts()) == 2  # 80% actual and 100% forecast, both recorded
    assert m.check_budgets()[0]["new_alerts"] == []


def test_budget_arguments_are_checked(tmp_path: pathlib.Path) -> None:
    m = CostMonitor()
    with pytest.raises(ValueError, match="not above zero"):
        m.add_budget("x", 0)
    with pytest.raises(ValueError, match="fortnightly"):
        m.add_budget("x", 10, period="fortnightly")
    with pytest.raises(ValueError, match="maybe"):
        m.add_budget("x", 10, thresholds=["80:maybe"])
    with pytest.raises(TypeError, match="scope"):
        m.add_budget("x", 10, scope=["service"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        m.on_budget_alert(42)  # type: ignore[arg-type]
    assert m.budgets() == []


def test_the_report_carries_the_forecast_and_the_anomalies(tmp_path: pathlib.Path) -> None:
    m = monitor_with(tmp_path, history(spike_day=45))
    report = m.generate_cost_report("monthly")
    assert [a["day"] for a in report.anomalies] == ["2024-09-15"]
    assert len(report.forecast_daily) == 30
    first = report.forecast_daily[0]
    assert first["day"] == "2024-09-30" and first["lower"] <= first["expected"] <= first["upper"]
    assert isinstance(report.forecast, Decimal)
    html = report.to_html()
    assert 'class="band"' in html and 'class="anomaly"' in html
