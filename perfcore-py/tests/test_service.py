"""The example service (examples/python/service.py) under uvicorn, driven by its load driver
(examples/python/load.py): perfcore's figures, read from the endpoint, agree with the client's.

The service runs in a subprocess on free loopback ports, as ``service.py --scenario`` runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import perfcore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def _load(name: str) -> ModuleType:
    """Import an example file as a module (the examples are not a package)."""
    module_name = f"perfcore_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


load = _load("load")
service = _load("service")


def _have_server_deps() -> bool:
    probe = "import uvicorn, fastapi"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


if not _have_server_deps():
    if os.environ.get("CI"):
        raise RuntimeError("uvicorn and fastapi must be installed (.ci/python-tests.sh does)")
    pytest.skip("uvicorn or fastapi is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def running() -> Any:
    with load.ServiceProcess([sys.executable, str(EXAMPLES / "service.py")]) as proc:
        yield proc


@pytest.fixture(scope="module")
def target(running: Any) -> Any:
    return running.target(
        service.HANDLERS, db_lookup=service.DB_LOOKUP, checkout_fails=service.checkout_fails
    )


@pytest.fixture(scope="module")
def load_result(target: Any) -> Any:
    # A generous lag limit: a stalled shared machine must not leave requests unsent here.
    return load.run_scenario(
        "load", target, duration_s=2.5, rate=150.0, workers=8, seed=3, lag_limit_s=5.0
    )


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return resp.read().decode()


def test_load_scenario_checks_pass(load_result: Any) -> None:
    failed = [c for p in load_result.phases for c in p.checks if not c.ok]
    assert load_result.ok, (failed, load.format_result(load_result))
    (phase,) = load_result.phases
    names = {c.name for c in phase.checks}
    for route in service.HANDLERS:
        assert {f"{route} count", f"{route} errors", f"{route} p95"} <= names
    assert "cache misses = db lookups" in names
    assert "checkout fails exactly the failing orders" in names


def test_every_request_is_one_handler_call(load_result: Any) -> None:
    (phase,) = load_result.phases
    assert phase.not_sent == 0
    assert sum(phase.transport_failures.values()) == 0
    sent = 0
    for route in service.HANDLERS:
        client, perf = phase.client[route], phase.perfcore[route]
        assert client.count > 0, route
        assert perf.count == client.count, route
        assert perf.errors == client.errors, route
        sent += client.count
    assert sent == len(phase.samples) == int(150.0 * 2.5)


def test_checkout_fails_about_five_percent(load_result: Any) -> None:
    (phase,) = load_result.phases
    checkout = phase.perfcore["/checkout"]
    assert checkout.errors > 0
    assert checkout.errors == phase.client["/checkout"].errors
    orders = [s.order for s in phase.samples if s.route == "/checkout"]
    assert checkout.errors == sum(1 for o in orders if service.checkout_fails(o))
    for route in ("/items", "/search", "/healthz"):
        assert phase.perfcore[route].errors == 0


def test_cache_ratio_is_exported_and_adds_up(load_result: Any, target: Any) -> None:
    (phase,) = load_result.phases
    cache = phase.cache
    assert cache["hits"] + cache["misses"] == phase.perfcore["/items"].count
    assert cache["misses"] == cache["db_lookups"] > 0
    text = _get(target.metrics_url + "/metrics")
    ratio = re.search(r'^perfcore_service_cache_ratio\{cache="items"\} (\S+)$', text, re.M)
    assert ratio is not None, text[:2000]
    hits = re.search(r'^perfcore_service_cache_hits_total\{cache="items"\} (\S+)$', text, re.M)
    misses = re.search(r'^perfcore_service_cache_misses_total\{cache="items"\} (\S+)$', text, re.M)
    assert hits is not None and misses is not None
    h, m = float(hits.group(1)), float(misses.group(1))
    assert float(ratio.group(1)) == pytest.approx(h / (h + m))
    assert 'perfcore_function_duration_seconds_bucket{function="service.get_item"' in text


def test_snapshot_json_is_a_snapshot_with_every_handler(load_result: Any, target: Any) -> None:
    snap = perfcore.Snapshot.from_json(_get(target.metrics_url + "/snapshot.json"))
    (phase,) = load_result.phases
    for route, name in service.HANDLERS.items():
        assert snap[name].count >= phase.perfcore[route].count  # warm-up calls too
    assert snap[service.DB_LOOKUP].count >= phase.cache["db_lookups"]
    obs = json.loads(_get(target.metrics_url + "/observations.json"))["observations"]
    names = {o["name"] for o in obs}
    assert {"service_cache_ratio", "service_cache_hits_total"} <= names


def test_command_runs_a_scenario_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "baseline.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "service.py"),
            "--scenario",
            "baseline",
            "--duration",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scenario baseline: ok" in proc.stdout
    result = json.loads(out.read_text())
    assert result["ok"] is True
    (phase,) = result["phases"]
    assert phase["mode"] == "closed"
    for route in service.HANDLERS:
        assert phase["perfcore"][route]["count"] == phase["client"][route]["count"]


# --- the driver's parts, without a server ----------------------------------------------------


def _run(samples: list[Any], before: Any, after: Any) -> Any:
    return load.PhaseRun("t", "open", 10.0, samples, 1.0, 0, 0.0, before, after, [], [])


def test_a_lost_call_fails_the_check() -> None:
    target = load.Target("http://127.0.0.1:1", "http://127.0.0.1:2", {"/healthz": "h"})
    samples = [load.Sample("/healthz", i, 2_000_000, 200) for i in range(3)]
    empty = perfcore.Snapshot.from_functions([])
    two = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("h", [1_000_000, 1_000_000])]
    )
    result = load.evaluate(target, _run(samples, empty, two))
    count = next(c for c in result.checks if c.name == "/healthz count")
    assert not count.ok and "perfcore 2, client 3" in count.detail
    assert not result.ok
    three = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("h", [1_000_000] * 3)]
    )
    assert load.evaluate(target, _run(samples, empty, three)).ok


def test_a_p95_above_the_clients_fails_the_check() -> None:
    target = load.Target("http://127.0.0.1:1", "http://127.0.0.1:2", {"/healthz": "h"})
    samples = [load.Sample("/healthz", i, 1_000_000, 200) for i in range(20)]
    empty = perfcore.Snapshot.from_functions([])
    slow = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("h", [5_000_000] * 20)]
    )
    result = load.evaluate(target, _run(samples, empty, slow))
    p95 = next(c for c in result.checks if c.name == "/healthz p95")
    assert not p95.ok


def test_an_unanswered_request_is_counted_apart() -> None:
    target = load.Target("http://127.0.0.1:1", "http://127.0.0.1:2", {"/healthz": "h"})
    samples = [load.Sample("/healthz", 0, 1_000_000, 200), load.Sample("/healthz", 1, 5, 0)]
    empty = perfcore.Snapshot.from_functions([])
    for calls in (1, 2):
        after = perfcore.Snapshot.from_functions(
            [perfcore.FunctionStats.from_durations("h", [900_000] * calls)]
        )
        result = load.evaluate(target, _run(samples, empty, after))
        assert result.client["/healthz"].count == 1
        assert result.transport_failures["/healthz"] == 1
        assert result.ok, result.checks


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_quantile_is_nearest_rank(n: int) -> None:
    import random

    data = sorted(random.Random(n).randrange(10**9) for _ in range(n))
    for q in (0.0, 0.5, 0.95, 0.99, 1.0):
        v = load.quantile(data, q)
        assert v in data
        assert sum(1 for x in data if x <= v) >= q * n  # at least q of them at or below
        assert sum(1 for x in data if x < v) < max(q * n, 1)  # the smallest such sample
    assert load.quantile([], 0.5) == 0


def test_request_mix_is_deterministic_and_weighted() -> None:
    a, b = load.RequestMix(5), load.RequestMix(5)
    seq = [a.next() for _ in range(2000)]
    assert seq == [b.next() for _ in range(2000)]
    routes = [r for r, _, _ in seq]
    for route, weight in load.MIX:
        share = routes.count(route) / len(routes)
        assert abs(share - weight / 100) < 0.05, (route, share)
    orders = [o for r, _, o in seq if r == "/checkout"]
    assert orders == list(range(len(orders)))


def test_checkout_fails_every_twentieth_order() -> None:
    fails = [o for o in range(1000) if service.checkout_fails(o)]
    assert len(fails) == 50
    assert fails[:2] == [19, 39]


def test_lru_cache_evicts_the_least_recently_used() -> None:
    cache = service.LruCache(2)
    cache.put(1, {"id": 1})
    cache.put(2, {"id": 2})
    assert cache.get(1) == {"id": 1}
    cache.put(3, {"id": 3})
    assert cache.get(2) is None
    assert cache.get(1) is not None and cache.get(3) is not None
    assert len(cache) == 2
    with pytest.raises(ValueError, match="capacity"):
        service.LruCache(0)


def test_search_ranks_by_prefix_matches() -> None:
    corpus = [["apple", "banana"], ["apricot", "apple", "apex"], ["cherry"]]
    assert service.search_corpus(corpus, "ap") == [
        {"doc": 1, "score": 3},
        {"doc": 0, "score": 1},
    ]
    assert service.search_corpus(corpus, "apple")[0] == {"doc": 0, "score": 2}
    assert service.search_corpus(corpus, "  ") == []


def test_unknown_scenario_and_bad_duration_are_refused() -> None:
    target = load.Target("http://127.0.0.1:1", "http://127.0.0.1:2", {})
    with pytest.raises(ValueError, match="'nap'"):
        load.run_scenario("nap", target)
    with pytest.raises(ValueError, match="duration"):
        load.run_scenario("load", target, duration_s=0)


def test_spike_phases_each_add_up(target: Any) -> None:
    result = load.run_scenario(
        "spike", target, duration_s=1.5, rate=100.0, workers=8, seed=4, lag_limit_s=5.0
    )
    assert [p.name for p in result.phases] == ["base 100/s", "spike 500/s", "recover 100/s"]
    assert result.ok, load.format_result(result)
    for phase in result.phases:
        assert phase.not_sent == 0
        assert sum(c.count for c in phase.client.values()) == int(phase.rate * 0.5)


def test_soak_reports_memory_and_scrapes(target: Any) -> None:
    result = load.run_scenario("soak", target, duration_s=2.0, rate=50.0, seed=5, lag_limit_s=5.0)
    assert result.ok, load.format_result(result)
    extra = result.extra
    assert extra["scrapes"] >= 2 and extra["scrape_failures"] == 0
    assert 0 < extra["scrape_p50_ns"] <= extra["scrape_p99_ns"] <= extra["scrape_max_ns"]
    for key in ("rss_start_bytes", "rss_end_bytes", "exported_rss_end_bytes"):
        assert extra[key] > 1 << 20, key
    assert extra["windows"] == len(result.phases[0].windows) >= 2
    text = load.format_result(result)
    assert "scrape_p99_ns" in text and "MiB" in text


def test_handler_option_is_route_equals_name() -> None:
    assert load.parse_handler("/items=svc::get_item") == ("/items", "svc::get_item")
    with pytest.raises(ValueError, match="'/items'.*ROUTE=NAME"):
        load.parse_handler("/items")
    with pytest.raises(ValueError, match="route '/cart'"):
        load.parse_handler("/cart=x")
