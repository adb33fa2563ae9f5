"""A bounded loopback load driver for the example service, and the check of perfcore's figures
against the client's own.

The HTTP side is the standard library only (threads, ``http.client`` keep-alive connections);
perfcore's figures come from the service's endpoint: ``GET /snapshot.json`` before and after
each phase (``perfcore.Snapshot.since`` gives the calls in between) and
``GET /observations.json`` (the cache's hit and miss counters, the process's memory).

Scenarios, short and bounded (every phase has a fixed request budget and duration):

- ``baseline``: closed loop on one connection, each request sent when the previous answered;
- ``load``: open loop at a fixed rate; latency counts from the *intended* send time, so a
  slow response delays nothing unseen (no coordinated omission);
- ``stress``: open-loop rate steps (doubling) up to the breaking point: the first step the
  driver cannot keep up with (behind its schedule by over ``lag_limit_s``), whose throughput
  falls under 90% of the target, whose p99 passes the SLO, or with transport failures;
- ``spike``: a base rate, five times it, the base rate again;
- ``endurance``: the load scenario for longer, reported per one-second window;
- ``soak``: endurance, plus a scrape of ``/metrics`` a second (its latency) and the service's
  resident memory at the start and the end.

Each phase ends with every sent request answered before the snapshot after it is taken, and
only requests that got an HTTP answer from a route are counted as handler calls (a transport
failure, or a request the driver did not send because it fell behind, is counted apart).
Checks, per phase: per handler perfcore's count equals the client's (no lost calls), its
errors equal the client's 500s, and perfcore's p95 is at most the client's p95 plus one
histogram bucket (perfcore times the handler, which runs inside the client's request); the
cache's hits plus misses equal the item handler's calls and its misses the database lookups;
the failed checkouts are exactly the orders the service fails.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import http.client
import itertools
import json
import math
import os
import random
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import IO, Any, NamedTuple

SCENARIOS = ("baseline", "load", "stress", "spike", "endurance", "soak")
#: Default length of each scenario's load, in seconds (``--duration`` overrides it).
DEFAULT_DURATION_S = {
    "baseline": 5.0,
    "load": 5.0,
    "stress": 6.0,
    "spike": 6.0,
    "endurance": 15.0,
    "soak": 20.0,
}
#: perfcore's latency histogram has 64 buckets per power of two: a bucket is at most 1/64 of
#: its values wide, the slack the p95 check allows. perfcore's quantile is the midpoint of the
#: bucket holding the same nearest-rank order statistic (rank ``ceil(q * n)``) as
#: :func:`quantile` takes from the client's samples, and every handler call lies inside its
#: request, so rank for rank perfcore's value can exceed the client's only by that rounding.
BUCKET_SLACK = 1.0 / 64.0
#: Route weights of the request mix.
MIX = (("/items", 60), ("/search", 20), ("/checkout", 15), ("/healthz", 5))
ITEM_IDS = 1000
SEARCH_PREFIXES = tuple(a + b for a in "abcdefghijklmnopqrstuvwxyz" for b in "aeiou")


# --- the service under test ------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """A running service: its base URL, its perfcore endpoint and the handler names."""

    url: str
    metrics_url: str
    #: Route (``/items``, ``/search``, ``/checkout``, ``/healthz``) -> perfcore function name.
    handlers: dict[str, str]
    #: The profiled call behind a cache miss, if the service has one.
    db_lookup: str | None = None
    #: Whether checkout of an order fails, if the service says so deterministically.
    checkout_fails: Callable[[int], bool] | None = None
    #: The service's process id, for its resident memory and CPU time from /proc.
    pid: int | None = None

    def get(self, url: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """``GET url`` on a fresh connection: the status and the body."""
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def snapshot(self) -> Any:
        """perfcore's snapshot of the service now (``GET /snapshot.json``)."""
        from perfcore import Snapshot

        status, body = self.get(self.metrics_url + "/snapshot.json")
        if status != 200:
            raise RuntimeError(f"GET /snapshot.json answered {status}: {body[:200]!r}")
        return Snapshot.from_json(body.decode())

    def observations(self) -> list[dict[str, Any]]:
        """What the endpoint exports besides the profiler (``GET /observations.json``)."""
        status, body = self.get(self.metrics_url + "/observations.json")
        if status != 200:
            raise RuntimeError(f"GET /observations.json answered {status}: {body[:200]!r}")
        return list(json.loads(body)["observations"])

    def observation(self, name: str, **labels: str) -> float | None:
        """The value of one exported series, or ``None`` when it is not exported (yet)."""
        for o in self.observations():
            if o["name"] == name and all(o["labels"].get(k) == v for k, v in labels.items()):
                return None if o["value"] is None else float(o["value"])
        return None


class ServiceProcess:
    """The service in a subprocess on free loopback ports (``--serve --port 0``).

    ``command`` starts the service; it gets ``--serve --port 0 --metrics-port 0 --ready-line``
    appended (other ports if given: a fixed endpoint port lets ``perfcore top`` or a
    Prometheus watch the run) and must print one JSON line with ``url``, ``metrics_url`` and
    ``pid``.
    """

    def __init__(
        self,
        command: Sequence[str],
        startup_timeout: float = 60.0,
        port: int = 0,
        metrics_port: int = 0,
    ) -> None:
        self.command = [
            *command,
            "--serve",
            "--port",
            str(port),
            "--metrics-port",
            str(metrics_port),
            "--ready-line",
        ]
        self.startup_timeout = startup_timeout
        self.info: dict[str, Any] = {}
        self._stderr: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the service and wait for its ready line."""
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self._proc.poll() is not None:
                message = f"the service did not start: {self.stderr()[-2000:]}"
                self.stop()
                raise RuntimeError(message)
            ready, _, _ = select.select([self._proc.stdout], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self._proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.info = json.loads(line.decode().splitlines()[0])

    def stderr(self) -> str:
        """What the service wrote to its standard error so far (empty once stopped)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def target(
        self,
        handlers: dict[str, str],
        db_lookup: str | None = None,
        checkout_fails: Callable[[int], bool] | None = None,
    ) -> Target:
        """The running service as a :class:`Target`."""
        return Target(
            url=self.info["url"],
            metrics_url=self.info["metrics_url"],
            handlers=dict(handlers),
            db_lookup=db_lookup,
            checkout_fails=checkout_fails,
            pid=int(self.info["pid"]),
        )

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 10 s."""
        proc, self._proc = self._proc, None
        if self._stderr is not None:
            self._stderr.close()
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# --- requests --------------------------------------------------------------------------------


class RequestMix:
    """A deterministic sequence of requests: routes by weight, item ids Zipf-distributed (a
    few hot items, so the cache hits most of the time), search prefixes, numbered orders."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._routes = [route for route, _ in MIX]
        self._route_cum = list(itertools.accumulate(w for _, w in MIX))
        self._item_cum = list(itertools.accumulate(1.0 / k for k in range(1, ITEM_IDS + 1)))
        self._orders = itertools.count()

    def next(self) -> tuple[str, str, int | None]:
        """The next request: its route, its path and query, and its order number if any."""
        rng = self._rng
        route = self._routes[
            bisect.bisect_right(self._route_cum, rng.random() * self._route_cum[-1])
        ]
        if route == "/items":
            k = bisect.bisect_right(self._item_cum, rng.random() * self._item_cum[-1])
            return route, f"/items/{min(k, ITEM_IDS - 1) + 1}", None
        if route == "/search":
            return route, f"/search?q={rng.choice(SEARCH_PREFIXES)}", None
        if route == "/checkout":
            order = next(self._orders)
            return route, f"/checkout?order={order}", order
        return route, "/healthz", None


@dataclasses.dataclass
class Sample:
    """One request the driver sent."""

    route: str
    #: When it was (meant to be) sent, ns since the phase's start.
    at_ns: int
    latency_ns: int
    #: The HTTP status, or 0 for a transport failure (no answer).
    status: int
    order: int | None = None


class _Connection:
    """A keep-alive connection; a failed request drops it (the next one reconnects)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname or "", parts.port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> int:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request("GET", path)
            resp = self.conn.getresponse()
            resp.read()
            if resp.will_close:
                self.close()
            return resp.status
        except (OSError, http.client.HTTPException):
            self.close()
            return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclasses.dataclass
class PhaseRun:
    """What one phase sent and got back, and perfcore's snapshots around it."""

    name: str
    mode: str
    #: The open loop's target rate (requests/s), ``None`` for the closed loop.
    rate: float | None
    samples: list[Sample]
    #: Seconds from the phase's start to its last answer.
    wall_s: float
    #: Requests the schedule held that the driver did not send: it fell behind.
    not_sent: int
    #: How far behind its schedule the driver was at worst, in seconds.
    max_lag_s: float
    before: Any
    after: Any
    obs_before: list[dict[str, Any]]
    obs_after: list[dict[str, Any]]


def _observed(obs: list[dict[str, Any]], name: str, **labels: str) -> float | None:
    for o in obs:
        if o["name"] == name and all(o["labels"].get(k) == v for k, v in labels.items()):
            return None if o["value"] is None else float(o["value"])
    return None


class Driven(NamedTuple):
    """What a loop sent: the samples, seconds to the last answer, requests not sent (the
    driver fell behind) and the worst lag behind the schedule in seconds."""

    samples: list[Sample]
    wall_s: float
    not_sent: int
    max_lag_s: float


def closed_loop(target: Target, mix: RequestMix, duration_s: float, max_requests: int) -> Driven:
    """One connection, one request at a time, for ``duration_s`` or ``max_requests``."""
    conn = _Connection(target.url, timeout=30.0)
    samples: list[Sample] = []
    start = time.perf_counter_ns()
    end = start + int(duration_s * 1e9)
    try:
        while len(samples) < max_requests:
            sent = time.perf_counter_ns()
            if sent >= end:
                break
            route, path, order = mix.next()
            status = conn.get(path)
            samples.append(
                Sample(route, sent - start, time.perf_counter_ns() - sent, status, order)
            )
    finally:
        conn.close()
    return Driven(samples, (time.perf_counter_ns() - start) / 1e9, 0, 0.0)


def open_loop(
    target: Target,
    mix: RequestMix,
    rate: float,
    duration_s: float,
    workers: int,
    lag_limit_s: float,
) -> Driven:
    """Requests at ``rate``/s for ``duration_s`` from ``workers`` keep-alive connections;
    latency from each request's intended send time. A worker that finds itself over
    ``lag_limit_s`` behind the schedule stops the phase (the rest is counted as not sent)."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    total = max(1, int(rate * duration_s))
    interval_ns = 1e9 / rate
    lag_limit_ns = int(lag_limit_s * 1e9)
    lock = threading.Lock()
    state = {"next": 0, "stopped": False, "max_lag": 0}
    per_worker: list[list[Sample]] = [[] for _ in range(workers)]
    start = time.perf_counter_ns() + 20_000_000  # every worker is up before the first send

    def work(samples: list[Sample]) -> None:
        conn = _Connection(target.url, timeout=30.0)
        try:
            while True:
                with lock:
                    if state["stopped"] or state["next"] >= total:
                        return
                    i = state["next"]
                    state["next"] += 1
                    route, path, order = mix.next()
                intended = start + int(i * interval_ns)
                now = time.perf_counter_ns()
                if now < intended:
                    time.sleep((intended - now) / 1e9)
                else:
                    lag = now - intended
                    with lock:
                        state["max_lag"] = max(state["max_lag"], lag)
                        if lag > lag_limit_ns:
                            state["stopped"] = True
                            return
                status = conn.get(path)
                samples.append(
                    Sample(
                        route, intended - start, time.perf_counter_ns() - intended, status, order
                    )
                )
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in per_worker]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples = sorted((s for ws in per_worker for s in ws), key=lambda s: s.at_ns)
    wall = max((s.at_ns + s.latency_ns for s in samples), default=0) / 1e9
    # Requests other workers had drawn when one stopped the phase may still have been sent.
    return Driven(samples, wall, total - len(samples), state["max_lag"] / 1e9)


def run_phase(target: Target, name: str, mode: str, mix: RequestMix, **kw: Any) -> PhaseRun:
    """One phase between two snapshots and two readings of the observations."""
    obs_before = target.observations()
    before = target.snapshot()
    if mode == "closed":
        samples, wall, not_sent, lag = closed_loop(
            target, mix, kw["duration_s"], kw["max_requests"]
        )
        rate = None
    else:
        samples, wall, not_sent, lag = open_loop(
            target, mix, kw["rate"], kw["duration_s"], kw["workers"], kw["lag_limit_s"]
        )
        rate = kw["rate"]
    after = target.snapshot()
    obs_after = target.observations()
    return PhaseRun(
        name, mode, rate, samples, wall, not_sent, lag, before, after, obs_before, obs_after
    )


# --- figures and checks ----------------------------------------------------------------------


def quantile(sorted_ns: Sequence[int], q: float) -> int:
    """The exact ``q`` quantile of sorted samples, nearest rank (the smallest sample with at
    least ``q`` of them at or below it); 0 for no samples."""
    if not sorted_ns:
        return 0
    rank = max(1, math.ceil(q * len(sorted_ns)))
    return sorted_ns[min(rank, len(sorted_ns)) - 1]


@dataclasses.dataclass
class Sli:
    """Service-level figures of one route in one phase, from one side (client or perfcore)."""

    count: int
    errors: int
    p50_ns: int
    p95_ns: int
    p99_ns: int
    throughput: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Check:
    """One check of perfcore's figures against the client's."""

    name: str
    ok: bool
    detail: str


@dataclasses.dataclass
class PhaseResult:
    """A phase's figures: per route the client's and perfcore's SLIs, and the checks."""

    name: str
    mode: str
    rate: float | None
    wall_s: float
    client: dict[str, Sli]
    perfcore: dict[str, Sli]
    #: Requests without an HTTP answer (not handler calls: counted apart).
    transport_failures: dict[str, int]
    not_sent: int
    max_lag_s: float
    checks: list[Check]
    cache: dict[str, Any]
    windows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    #: Every request the phase sent, in the order of their send times.
    samples: list[Sample] = dataclasses.field(default_factory=list, repr=False)

    @property
    def total(self) -> Sli:
        """The client's figures over every route."""
        return _sli(self.samples, self.wall_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "rate": self.rate,
            "wall_s": self.wall_s,
            "ok": self.ok,
            "client": {r: s.to_dict() for r, s in self.client.items()},
            "perfcore": {r: s.to_dict() for r, s in self.perfcore.items()},
            "client_total": self.total.to_dict(),
            "transport_failures": self.transport_failures,
            "not_sent": self.not_sent,
            "max_lag_s": self.max_lag_s,
            "cache": self.cache,
            "windows": self.windows,
            "checks": [dataclasses.asdict(c) for c in self.checks],
        }


def _sli(samples: Sequence[Sample], wall_s: float) -> Sli:
    answered = sorted(s.latency_ns for s in samples if s.status)
    return Sli(
        count=len(answered),
        errors=sum(1 for s in samples if s.status >= 500),
        p50_ns=quantile(answered, 0.50),
        p95_ns=quantile(answered, 0.95),
        p99_ns=quantile(answered, 0.99),
        throughput=len(answered) / wall_s if wall_s > 0 else 0.0,
    )


def evaluate(target: Target, run: PhaseRun, window_s: float | None = None) -> PhaseResult:
    """The client's and perfcore's figures for one phase, and the checks between them."""
    delta = run.after.since(run.before)
    span_s = max((run.after.ended_unix_ns - run.before.ended_unix_ns) / 1e9, 1e-9)
    client: dict[str, Sli] = {}
    perf: dict[str, Sli] = {}
    failures: dict[str, int] = {}
    checks: list[Check] = []
    for route, handler in target.handlers.items():
        samples = [s for s in run.samples if s.route == route]
        failed = sum(1 for s in samples if s.status == 0)
        client[route] = c = _sli(samples, run.wall_s)
        failures[route] = failed
        fs = delta.function(handler)
        perf[route] = p = Sli(
            count=fs.count if fs else 0,
            errors=fs.errors if fs else 0,
            p50_ns=fs.p50_ns if fs else 0,
            p95_ns=fs.p95_ns if fs else 0,
            p99_ns=fs.p99_ns if fs else 0,
            throughput=(fs.count if fs else 0) / span_s,
        )
        if failed == 0:
            checks.append(
                Check(f"{route} count", p.count == c.count, f"perfcore {p.count}, client {c.count}")
            )
        else:  # a request without an answer may or may not have reached the handler
            checks.append(
                Check(
                    f"{route} count",
                    c.count <= p.count <= c.count + failed,
                    f"perfcore {p.count}, client {c.count} answered + {failed} unanswered",
                )
            )
        checks.append(
            Check(
                f"{route} errors", p.errors == c.errors, f"perfcore {p.errors}, client {c.errors}"
            )
        )
        if c.count:
            bound = c.p95_ns * (1 + BUCKET_SLACK)
            checks.append(
                Check(
                    f"{route} p95",
                    p.p95_ns <= bound,
                    f"perfcore {_ms(p.p95_ns)}, client {_ms(c.p95_ns)} (+1 bucket: {_ms(bound)})",
                )
            )
    cache: dict[str, Any] = {}
    hits_b = _observed(run.obs_before, "service_cache_hits_total")
    hits_a = _observed(run.obs_after, "service_cache_hits_total")
    miss_b = _observed(run.obs_before, "service_cache_misses_total")
    miss_a = _observed(run.obs_after, "service_cache_misses_total")
    if hits_a is not None and miss_a is not None:
        hits = int(hits_a - (hits_b or 0))
        misses = int(miss_a - (miss_b or 0))
        cache = {
            "hits": hits,
            "misses": misses,
            "hit_ratio": hits / (hits + misses) if hits + misses else None,
            # The exported gauge counts since the service started, not since the phase.
            "exported_ratio": _observed(run.obs_after, "service_cache_ratio"),
        }
        items = perf.get("/items")
        if items is not None:
            checks.append(
                Check(
                    "cache hits+misses = item calls",
                    hits + misses == items.count,
                    f"{hits} + {misses}, perfcore {items.count}",
                )
            )
        if target.db_lookup is not None:
            db = delta.function(target.db_lookup)
            db_count = db.count if db else 0
            cache["db_lookups"] = db_count
            cache["db_p95_ns"] = db.p95_ns if db else 0
            checks.append(
                Check(
                    "cache misses = db lookups",
                    misses == db_count,
                    f"{misses} misses, perfcore {db_count}",
                )
            )
    if target.checkout_fails is not None:
        orders = [s for s in run.samples if s.route == "/checkout" and s.status]
        wrong = [
            s.order for s in orders if (s.status >= 500) != target.checkout_fails(s.order or 0)
        ]
        checks.append(
            Check(
                "checkout fails exactly the failing orders",
                not wrong,
                f"{sum(1 for s in orders if s.status >= 500)} of {len(orders)} failed"
                + (f"; unexpected: {wrong[:5]}" if wrong else ""),
            )
        )
    windows = []
    if window_s:
        n = max(1, math.ceil(run.wall_s / window_s))
        for w in range(n):
            lo, hi = w * window_s * 1e9, (w + 1) * window_s * 1e9
            ws = [s for s in run.samples if lo <= s.at_ns < hi]
            if ws:
                sli = _sli(ws, window_s)
                windows.append({"start_s": w * window_s, **sli.to_dict()})
    return PhaseResult(
        run.name,
        run.mode,
        run.rate,
        run.wall_s,
        client,
        perf,
        failures,
        run.not_sent,
        run.max_lag_s,
        checks,
        cache,
        windows,
        run.samples,
    )


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f}ms"


# --- scenarios -------------------------------------------------------------------------------


@dataclasses.dataclass
class ScenarioResult:
    """A scenario's phases, what it found (breaking point, memory, scrapes) and its checks."""

    scenario: str
    phases: list[PhaseResult]
    extra: dict[str, Any]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.phases) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "ok": self.ok,
            "phases": [p.to_dict() for p in self.phases],
            "extra": self.extra,
            "checks": [dataclasses.asdict(c) for c in self.checks],
        }


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario options of the command."""
    parser.add_argument("--duration", type=float, help="seconds of load (default: per scenario)")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop rate, requests/s")
    parser.add_argument("--workers", type=int, default=16, help="open-loop connections")
    parser.add_argument("--seed", type=int, default=1, help="seed of the request mix")
    parser.add_argument("--slo-ms", type=float, default=250.0, help="stress: p99 limit")
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")


def scenario_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`run_scenario` from the parsed command line."""
    return {
        "duration_s": args.duration,
        "rate": args.rate,
        "workers": args.workers,
        "seed": args.seed,
        "slo_ms": args.slo_ms,
    }


def warm_up(target: Target) -> None:
    """One request to each route (first calls pay for imports and caches), before any
    snapshot is taken."""
    conn = _Connection(target.url, timeout=30.0)
    try:
        for path in ("/healthz", "/items/1", "/search?q=ab", "/checkout?order=0"):
            if conn.get(path) == 0:
                raise RuntimeError(f"the service did not answer GET {path}")
    finally:
        conn.close()


def _proc_rss(pid: int | None) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _proc_cpu_s(pid: int | None) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Scraper:
    """Scrapes ``/metrics`` every ``interval_s`` on its own thread (as Prometheus does) and
    keeps each scrape's latency."""

    def __init__(self, target: Target, interval_s: float) -> None:
        self.target, self.interval_s = target, interval_s
        self.latencies_ns: list[int] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn = _Connection(self.target.metrics_url, timeout=10.0)
        try:
            while not self._stop.is_set():
                t = time.perf_counter_ns()
                status = conn.get("/metrics")
                if status == 200:
                    self.latencies_ns.append(time.perf_counter_ns() - t)
                else:
                    self.failures += 1
                self._stop.wait(self.interval_s)
        finally:
            conn.close()


def run_scenario(
    scenario: str,
    target: Target,
    duration_s: float | None = None,
    rate: float = 100.0,
    workers: int = 16,
    seed: int = 1,
    slo_ms: float = 250.0,
    lag_limit_s: float = 0.5,
) -> ScenarioResult:
    """Run one scenario on a running service; every phase bounded in requests and time."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
    if duration_s is None:
        duration_s = DEFAULT_DURATION_S[scenario]
    if not 0 < duration_s <= 3600:
        raise ValueError(f"duration must be in (0, 3600] seconds, got {duration_s}")
    warm_up(target)
    mix = RequestMix(seed)
    open_kw = {"workers": workers, "lag_limit_s": lag_limit_s}
    phases: list[PhaseResult] = []
    extra: dict[str, Any] = {}
    checks: list[Check] = []
    if scenario == "baseline":
        run = run_phase(
            target, "baseline", "closed", mix, duration_s=duration_s, max_requests=200_000
        )
        phases.append(evaluate(target, run))
    elif scenario == "load":
        run = run_phase(
            target, f"{rate:g}/s", "open", mix, rate=rate, duration_s=duration_s, **open_kw
        )
        phases.append(evaluate(target, run))
    elif scenario == "spike":
        third = duration_s / 3
        for name, r in (("base", rate), ("spike", rate * 5), ("recover", rate)):
            run = run_phase(
                target, f"{name} {r:g}/s", "open", mix, rate=r, duration_s=third, **open_kw
            )
            phases.append(evaluate(target, run))
    elif scenario == "stress":
        steps = 6
        step_s = max(0.5, duration_s / steps)
        sustained, broke = None, None
        for k in range(steps):
            r = rate * 2**k
            kw = {**open_kw, "workers": max(workers, 32)}
            run = run_phase(target, f"step {r:g}/s", "open", mix, rate=r, duration_s=step_s, **kw)
            phase = evaluate(target, run)
            phases.append(phase)
            total = phase.total
            reasons = []
            if run.not_sent:
                reasons.append(f"fell {run.max_lag_s:.2f}s behind, {run.not_sent} not sent")
            if total.throughput < 0.9 * r:
                reasons.append(f"throughput {total.throughput:.0f}/s < 90% of {r:g}/s")
            if total.p99_ns > slo_ms * 1e6:
                reasons.append(f"p99 {_ms(total.p99_ns)} > SLO {slo_ms:g}ms")
            if sum(phase.transport_failures.values()):
                reasons.append(f"{sum(phase.transport_failures.values())} transport failures")
            if reasons:
                broke = {"rate": r, "reasons": reasons}
                break
            sustained = r
        extra["sustained_rate"] = sustained
        extra["breaking_point"] = broke
    else:  # endurance, soak
        rss0 = _proc_rss(target.pid)
        cpu0 = _proc_cpu_s(target.pid)
        if scenario == "soak":  # the monitor's first sample of the process
            deadline = time.monotonic() + 5
            while (
                target.observation("process_resident_memory_bytes") is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.1)
        exported0 = target.observation("process_resident_memory_bytes")
        scraper = Scraper(target, interval_s=1.0) if scenario == "soak" else None
        if scraper:
            scraper.__enter__()
        try:
            run = run_phase(
                target, f"{rate:g}/s", "open", mix, rate=rate, duration_s=duration_s, **open_kw
            )
        finally:
            if scraper:
                scraper.__exit__()
        phases.append(evaluate(target, run, window_s=1.0))
        cpu1 = _proc_cpu_s(target.pid)
        extra["windows"] = len(phases[0].windows)
        if phases[0].windows:
            first, last = phases[0].windows[0], phases[0].windows[-1]
            extra["first_window_p99_ns"] = first["p99_ns"]
            extra["last_window_p99_ns"] = last["p99_ns"]
            extra["worst_window_p99_ns"] = max(w["p99_ns"] for w in phases[0].windows)
        if cpu0 is not None and cpu1 is not None and run.wall_s > 0:
            extra["service_cpu_cores"] = (cpu1 - cpu0) / run.wall_s
        if scenario == "soak":
            extra["rss_start_bytes"] = rss0
            extra["rss_end_bytes"] = _proc_rss(target.pid)
            extra["exported_rss_start_bytes"] = exported0
            extra["exported_rss_end_bytes"] = _observed(
                run.obs_after, "process_resident_memory_bytes"
            )
            assert scraper is not None
            lat = sorted(scraper.latencies_ns)
            extra["scrapes"] = len(lat)
            extra["scrape_failures"] = scraper.failures
            extra["scrape_p50_ns"] = quantile(lat, 0.5)
            extra["scrape_p99_ns"] = quantile(lat, 0.99)
            extra["scrape_max_ns"] = lat[-1] if lat else 0
            checks.append(
                Check(
                    "every scrape answered",
                    scraper.failures == 0 and bool(lat),
                    f"{len(lat)} scrapes, {scraper.failures} failed",
                )
            )
    return ScenarioResult(scenario, phases, extra, checks)


# --- the table -------------------------------------------------------------------------------


def format_result(result: ScenarioResult) -> str:
    """The result as a plain-text table: per phase and route, the client's and perfcore's
    SLIs side by side, then the checks."""
    lines = [f"scenario {result.scenario}: {'ok' if result.ok else 'FAILED'}"]
    head = (
        f"{'route':<10} {'':<8} {'count':>7} {'errors':>6} {'p50':>9} {'p95':>9} {'p99':>9}"
        f" {'req/s':>8}"
    )
    for phase in result.phases:
        total = phase.total
        lag = f", {phase.not_sent} not sent" if phase.not_sent else ""
        lines.append("")
        lines.append(
            f"phase {phase.name} ({phase.mode} loop, {phase.wall_s:.2f}s, "
            f"{total.count} answered, {total.throughput:.0f} req/s, "
            f"p99 {_ms(total.p99_ns)}, max lag {phase.max_lag_s * 1e3:.1f}ms{lag})"
        )
        lines.append(head)
        for route in phase.client:
            for side, sli in (("client", phase.client[route]), ("perfcore", phase.perfcore[route])):
                lines.append(
                    f"{route if side == 'client' else '':<10} {side:<8} {sli.count:>7}"
                    f" {sli.errors:>6} {_ms(sli.p50_ns):>9} {_ms(sli.p95_ns):>9}"
                    f" {_ms(sli.p99_ns):>9} {sli.throughput:>8.1f}"
                )
            if phase.transport_failures.get(route):
                lines.append(f"{'':<10} {'no answer':<8} {phase.transport_failures[route]:>7}")
        if phase.cache:
            c = phase.cache
            ratio = "n/a" if c["hit_ratio"] is None else f"{c['hit_ratio']:.3f}"
            exported = c["exported_ratio"]
            since_start = "n/a" if exported is None else f"{exported:.3f}"
            lines.append(
                f"cache: {c['hits']} hits, {c['misses']} misses in the phase (ratio {ratio}; "
                f"exported since the start {since_start}), "
                f"{c.get('db_lookups', 'n/a')} db lookups"
            )
        for check in phase.checks:
            lines.append(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if result.extra:
        lines.append("")
        for key, value in result.extra.items():
            if key.endswith("_ns") and isinstance(value, (int, float)):
                value = _ms(value)
            elif key.endswith("_bytes") and isinstance(value, (int, float)):
                value = f"{value / 2**20:.1f} MiB"
            elif isinstance(value, float):
                value = f"{value:.3f}"
            lines.append(f"{key}: {value}")
    for check in result.checks:
        lines.append(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return "\n".join(lines)


#: The Python example service's handler names (``service.py``'s ``HANDLERS``).
PYTHON_SERVICE_HANDLERS = {
    "/items": "service.get_item",
    "/search": "service.search",
    "/checkout": "service.checkout",
    "/healthz": "service.healthz",
}


def parse_handler(text: str) -> tuple[str, str]:
    """``ROUTE=NAME`` (``/items=my_service::get_item``) as a (route, perfcore name) pair.

    Raises ``ValueError`` naming the text when it is not of that form or the route is none of
    the driver's.
    """
    route, sep, name = text.partition("=")
    known = [r for r, _ in MIX]
    if not sep or not name:
        raise ValueError(f"handler {text!r} is not ROUTE=NAME")
    if route not in known:
        raise ValueError(f"handler {text!r}: route {route!r} is none of {', '.join(known)}")
    return route, name


def write_json(result: ScenarioResult, path: str) -> None:
    """Write ``result.to_dict()`` to ``path`` as indented JSON."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(result.to_dict(), out, indent=2)
        out.write("\n")


def main(argv: list[str] | None = None) -> int:
    """Drive a service already running (``--url``, ``--metrics-url``) with one scenario; exit
    1 when a check fails."""
    parser = argparse.ArgumentParser(description="drive a running example service")
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--metrics-url", required=True, help="its endpoint, e.g. http://127.0.0.1:9464"
    )
    parser.add_argument(
        "--handler",
        action="append",
        default=[],
        metavar="ROUTE=NAME",
        help="the perfcore name of a route's handler (default: the Python service's names)",
    )
    parser.add_argument(
        "--db-lookup",
        default="service.db_lookup",
        help="the perfcore name of the call behind a cache miss ('' for none)",
    )
    add_scenario_arguments(parser)
    args = parser.parse_args(argv)
    handlers = dict(PYTHON_SERVICE_HANDLERS)
    for text in args.handler:
        try:
            route, name = parse_handler(text)
        except ValueError as e:
            parser.error(str(e))
        handlers[route] = name
    target = Target(
        args.url.rstrip("/"), args.metrics_url.rstrip("/"), handlers, args.db_lookup or None
    )
    result = run_scenario(args.scenario, target, **scenario_options(args))
    print(format_result(result))
    if args.json:
        write_json(result, args.json)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
