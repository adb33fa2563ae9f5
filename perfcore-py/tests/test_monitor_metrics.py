"""Application metrics from Python: counters, gauges, ratios and observations (issue 13)."""

from __future__ import annotations

import threading
import uuid

import pytest

try:
    from perfcore import monitor
except ImportError:  # the perfcore.monitor module is assembled elsewhere
    from perfcore import _perfcore as monitor


def unique(prefix: str) -> str:
    """A metric name no other test uses (the registry is the process's)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def find(name: str, **labels: str) -> list[dict]:
    return [
        o
        for o in monitor.observations()
        if o["name"] == name and all(o["labels"].get(k) == v for k, v in labels.items())
    ]


def test_counter_counts_and_gets_total_appended() -> None:
    name = unique("py_requests")
    c = monitor.counter(name, "Requests served.", {"route": "/"})
    c.inc()
    c.inc(4)
    assert c.value == 5
    (o,) = find(f"{name}_total")
    assert o == {
        "name": f"{name}_total",
        "help": "Requests served.",
        "kind": "counter",
        "labels": {"route": "/"},
        "value": 5.0,
    }
    # The same name and labels are the same series.
    again = monitor.counter(f"{name}_total", labels=[("route", "/")])
    again.inc()
    assert c.value == 6


def test_gauge_moves_both_ways() -> None:
    g = monitor.gauge(unique("py_depth"), "Jobs waiting.")
    g.set(10)
    g.inc()
    g.dec(3)
    g.add(-0.5)
    assert g.value == 7.5
    assert repr(g) == "Gauge(value=7.5)"


def test_ratio_is_hits_over_all_and_exported_as_three_series() -> None:
    name = unique("py_cache")
    r = monitor.ratio(name, "Cache lookups.", {"cache": "users"})
    assert r.value is None
    assert find(f"{name}_ratio") == []
    for hit in (True, True, True, False):
        r.record(hit)
    r.hit()
    r.miss()
    r.add(hits=2)
    assert (r.hits, r.misses) == (6, 2)
    assert r.value == 0.75
    kinds = {o["name"]: o["kind"] for o in monitor.observations() if o["name"].startswith(name)}
    assert kinds == {
        f"{name}_hits_total": "counter",
        f"{name}_misses_total": "counter",
        f"{name}_ratio": "gauge",
    }
    (o,) = find(f"{name}_ratio", cache="users")
    assert o["value"] == 0.75


def test_threads_lose_no_update() -> None:
    c = monitor.counter(unique("py_threads"))
    g = monitor.gauge(unique("py_threads_gauge"))
    r = monitor.ratio(unique("py_threads_ratio"))

    def work() -> None:
        for i in range(5_000):
            c.inc()
            g.inc(2)
            g.dec()
            r.record(i % 5 != 0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.value == 40_000
    assert g.value == 40_000.0
    assert (r.hits, r.misses) == (32_000, 8_000)
    assert r.value == 0.8


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("9lives", None),
        ("has-dash", None),
        ("has.dot", None),
        ("", None),
        ("fine", {"le": "1"}),
        ("fine", {"__reserved": "x"}),
        ("fine", {"bad-label": "x"}),
    ],
)
def test_bad_names_raise_value_error_naming_them(name: str, labels: dict[str, str] | None) -> None:
    bad = name if labels is None else next(iter(labels))
    with pytest.raises(ValueError, match=f'"{bad}"'):
        monitor.gauge(name, labels=labels)


def test_another_kind_under_a_name_is_refused() -> None:
    name = unique("py_kind")
    monitor.gauge(name)
    with pytest.raises(ValueError, match=name):
        monitor.ratio(name)


def test_bad_labels_raise_type_error() -> None:
    with pytest.raises(TypeError):
        monitor.gauge(unique("py_labels"), labels=[1, 2])  # type: ignore[list-item]
