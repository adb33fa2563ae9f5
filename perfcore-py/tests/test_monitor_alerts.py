"""Alert rules, the alert engine and its sinks (perfcore.AlertRule, perfcore.AlertEngine)."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from perfcore._perfcore import AlertEngine, AlertRule


def disk(mount: str, value: float) -> dict[str, Any]:
    return {"name": "system_disk_utilization_ratio", "value": value, "labels": {"mount": mount}}


def test_rule_arguments_and_text_form() -> None:
    rule = AlertRule(
        "disk_full",
        "system_disk_utilization_ratio",
        0.9,
        severity="critical",
        for_seconds=60,
        resolve=0.85,
        labels={"mount": "/"},
        summary="{labels} at {value}",
    )
    assert rule.name == "disk_full"
    assert rule.severity == "critical"
    assert rule.for_seconds == 60.0
    assert rule.resolve == 0.85
    assert rule.labels == {"mount": "/"}
    assert not rule.below
    text = str(rule)
    assert text == (
        'disk_full: system_disk_utilization_ratio{mount="/"} > 0.9 for 1m resolve 0.85 '
        'severity critical summary "{labels} at {value}"'
    )
    assert AlertRule.parse(text) == rule
    assert "AlertRule.parse(" in repr(rule)
    low = AlertRule.parse("hits: cache_hit_ratio < 0.8")
    assert low.below and low.resolve == 0.8 and low.summary is None


def test_bad_rules_raise_value_error_naming_the_problem() -> None:
    with pytest.raises(ValueError, match="column 7"):
        AlertRule.parse("a: m >> 1")
    with pytest.raises(ValueError, match="severity"):
        AlertRule("a", "m", 1.0, severity="page")
    with pytest.raises(ValueError, match="resolve level"):
        AlertRule("a", "m", 1.0, resolve=2.0)
    with pytest.raises(ValueError, match="9m"):
        AlertRule("a", "9m", 1.0)
    with pytest.raises(ValueError, match="for_seconds"):
        AlertRule("a", "m", 1.0, for_seconds=-1)


def test_defaults_are_the_seed_thresholds() -> None:
    rules = {r.name: r for r in AlertRule.defaults()}
    assert rules["cpu_warning"].threshold == 0.8
    assert rules["cpu_critical"].threshold == 0.9
    assert rules["memory_critical"].severity == "critical"
    assert rules["disk_warning"].metric == "system_disk_utilization_ratio"
    assert rules["function_slow"].threshold == 2.0
    assert rules["function_errors"].threshold == 0.05


def test_lifecycle_pending_firing_resolved() -> None:
    engine = AlertEngine([AlertRule("disk", "system_disk_utilization_ratio", 0.9, for_seconds=60)])
    assert [e["state"] for e in engine.evaluate([disk("/", 0.95)], now=1000.0)] == ["pending"]
    assert engine.evaluate([disk("/", 0.95)], now=1030.0) == []
    (firing,) = engine.evaluate([disk("/", 0.97)], now=1060.0)
    assert firing["state"] == "firing"
    assert firing["labels"] == {"mount": "/"}
    assert firing["started_unix_ns"] == 1000 * 10**9
    assert firing["at_unix_ns"] == 1060 * 10**9
    assert firing["summary"] == 'system_disk_utilization_ratio{mount="/"} is 0.97, above 0.9'
    (active,) = engine.active()
    assert active["state"] == "firing" and active["firing_since_unix_ns"] == 1060 * 10**9
    (series,) = engine.observations()
    assert series["name"] == "alerts"
    assert series["labels"] == {
        "alertname": "disk",
        "alertstate": "firing",
        "severity": "warning",
        "mount": "/",
    }
    assert engine.evaluate([disk("/", 0.97)], now=1090.0) == []
    assert [e["state"] for e in engine.evaluate([disk("/", 0.5)], now=1100.0)] == ["resolved"]
    assert engine.active() == []


def test_evaluate_checks_observations() -> None:
    engine = AlertEngine([AlertRule("a", "m", 1.0)])
    with pytest.raises(ValueError, match=r"observations\[0\]: no 'value'"):
        engine.evaluate([{"name": "m"}])
    with pytest.raises(TypeError, match=r"observations\[1\]"):
        engine.evaluate([{"name": "m", "value": 0.0}, 3])  # type: ignore[list-item]
    # now defaults to the current time.
    assert engine.evaluate([{"name": "m", "value": 2.0}])[0]["state"] == "firing"


def test_callable_sink_gets_notifications_and_exceptions_are_counted() -> None:
    seen: list[dict[str, Any]] = []
    engine = AlertEngine([AlertRule("hot", "temp", 80.0)])
    engine.add_sink_callable(seen.append)

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("pager offline")

    engine.add_sink_callable(broken)
    engine.evaluate([{"name": "temp", "value": 90.0}], now=1.0)
    engine.evaluate([{"name": "temp", "value": 70.0}], now=2.0)
    assert engine.flush(30.0)
    assert [e["state"] for e in seen] == ["firing", "resolved"]
    assert (engine.delivered, engine.failed, engine.dropped) == (2, 2, 0)
    with pytest.raises(TypeError):
        engine.add_sink_callable(3)  # type: ignore[arg-type]
    engine.close()


def test_pending_events_do_not_reach_sinks() -> None:
    seen: list[dict[str, Any]] = []
    engine = AlertEngine([AlertRule("hot", "temp", 80.0, for_seconds=10)])
    engine.add_sink_callable(seen.append)
    assert engine.evaluate([{"name": "temp", "value": 90.0}], now=1.0)[0]["state"] == "pending"
    assert engine.evaluate([{"name": "temp", "value": 70.0}], now=2.0)[0]["state"] == "cancelled"
    assert engine.flush(30.0)
    assert seen == []


def test_jsonl_sink(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    engine = AlertEngine([AlertRule("hot", "temp", 80.0)])
    engine.add_jsonl_sink(path)
    engine.evaluate([{"name": "temp", "value": 90.0, "labels": {"room": "a"}}], now=5.0)
    engine.close()
    (line,) = path.read_text().splitlines()
    event = json.loads(line)
    assert event["rule"] == "hot" and event["labels"] == {"room": "a"} and event["value"] == 90.0
    with pytest.raises(OSError, match="missing"):
        engine.add_jsonl_sink(tmp_path / "missing" / "x.jsonl")


def test_webhook_sink_posts_to_loopback() -> None:
    bodies: list[bytes] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers["Content-Length"])
            bodies.append(self.rfile.read(n))
            self.send_response(200 if len(bodies) > 1 else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        engine = AlertEngine([AlertRule("hot", "temp", 80.0)])
        engine.add_webhook_sink(f"http://127.0.0.1:{server.server_port}/hook", retries=2, timeout=30.0)
        engine.evaluate([{"name": "temp", "value": 90.0}], now=5.0)
        assert engine.flush(60.0)
        assert engine.delivered == 1 and engine.failed == 0
        assert len(bodies) == 2  # a 503, retried
        assert json.loads(bodies[1])["state"] == "firing"
        engine.close()
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ValueError, match="https is not supported"):
        AlertEngine([]).add_webhook_sink("https://hooks.example/x")


def test_log_sink_and_drop_without_close() -> None:
    engine = AlertEngine(AlertRule.defaults())
    engine.add_log_sink()
    engine.add_sink_callable(lambda e: None)
    engine.evaluate([{"name": "function_error_ratio", "value": 0.5, "labels": {"function": "f"}}], now=1.0)
    assert engine.flush(30.0)
    del engine  # stops the delivery thread without hanging


def test_repr_and_rules() -> None:
    engine = AlertEngine([AlertRule("hot", "temp", 80.0)], stale_after=60.0, queue_capacity=8)
    assert repr(engine) == "<AlertEngine rules=1 active=0>"
    assert [r.name for r in engine.rules] == ["hot"]
    assert engine.flush() and (engine.delivered, engine.failed, engine.dropped) == (0, 0, 0)
    engine.close()
