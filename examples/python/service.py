"""The example service in Python: a FastAPI app whose handlers perfcore profiles, served by
uvicorn, with perfcore's endpoint beside it, and one command that runs a load scenario on it.

Routes (every handler is an ``async def`` decorated with ``@perfcore.profile``):

- ``GET /items/{item_id}``: an LRU cache in front of a slower "database" lookup (profiled too,
  ``service.db_lookup``); the cache's hit rate is the application metric
  ``service_cache`` (``perfcore_service_cache_ratio{cache="items"}`` on ``/metrics``);
- ``GET /search?q=``: real CPU work, a prefix search over a generated corpus;
- ``GET /checkout``: fails with 500 for every 20th order (deterministic: order ``n`` fails when
  ``n % 20 == 19``; ``?order=n`` names the order, else the service numbers them), the
  profiled call counted as an error;
- ``GET /healthz``.

perfcore's endpoint (``/metrics``, ``/snapshot.json``, ``/observations.json``) runs on a port
of its own, with a ``perfcore.monitor.Monitor`` (the default rules and a cache rule) so system
gauges and alert states are exported.

Run a scenario (starts the service in a subprocess on free loopback ports, drives it with
``load.py`` beside this file, prints the client's and perfcore's figures, exits 1 when a check
fails)::

    python examples/python/service.py --scenario load --duration 5 --json load.json

Only serve::

    python examples/python/service.py --serve --port 8000 --metrics-port 9464
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import random
import socket
import sys
from typing import Any

#: Entries the item cache keeps (least recently used goes first).
CACHE_CAPACITY = 256
#: What one "database" lookup waits, in seconds (I/O: the event loop serves others meanwhile).
DB_LATENCY_S = 0.002
#: Order ``n`` fails when ``n % CHECKOUT_FAIL_EVERY == CHECKOUT_FAIL_EVERY - 1`` (5%).
CHECKOUT_FAIL_EVERY = 20
#: The alert rule on the cache's hit rate, besides perfcore's default rules.
CACHE_RULE = "service_cache_cold: service_cache_ratio < 0.5 for 30s severity warning"

#: Route -> the name perfcore records its handler under (what the load driver checks).
HANDLERS = {
    "/items": "service.get_item",
    "/search": "service.search",
    "/checkout": "service.checkout",
    "/healthz": "service.healthz",
}
#: The profiled call behind a cache miss.
DB_LOOKUP = "service.db_lookup"


def checkout_fails(order: int) -> bool:
    """Whether checkout of order ``order`` fails (every 20th order, deterministically)."""
    return order % CHECKOUT_FAIL_EVERY == CHECKOUT_FAIL_EVERY - 1


class LruCache:
    """A bounded least-recently-used map (one event loop uses it, so no lock)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"cache capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: collections.OrderedDict[int, dict[str, Any]] = collections.OrderedDict()

    def get(self, key: int) -> dict[str, Any] | None:
        """The cached value, marked most recently used, or ``None``."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: int, value: dict[str, Any]) -> None:
        """Cache ``value``, evicting the least recently used entry past the capacity."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"LruCache(capacity={self.capacity}, len={len(self)})"


def make_corpus(n_docs: int = 800, words_per_doc: int = 24, seed: int = 7) -> list[list[str]]:
    """Documents of pseudo-words, the same for a seed (what ``/search`` scans)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(600)]
    return [rng.choices(vocabulary, k=words_per_doc) for _ in range(n_docs)]


def search_corpus(corpus: list[list[str]], query: str, top: int = 10) -> list[dict[str, Any]]:
    """Score every document by its words starting with a query term; the best ``top``."""
    terms = [t for t in query.lower().split() if t]
    if not terms:
        return []
    scored = []
    for doc_id, words in enumerate(corpus):
        score = 0
        for word in words:
            for term in terms:
                if word.startswith(term):
                    score += 1 + (word == term)
        if score:
            scored.append((score, doc_id))
    scored.sort(key=lambda sd: (-sd[0], sd[1]))
    return [{"doc": doc_id, "score": score} for score, doc_id in scored[:top]]


def create_app(cache_capacity: int = CACHE_CAPACITY, db_latency_s: float = DB_LATENCY_S) -> Any:
    """The FastAPI app, its handlers profiled on perfcore's default profiler."""
    import fastapi

    import perfcore
    from perfcore import monitor

    app = fastapi.FastAPI(title="perfcore example service")
    cache = LruCache(cache_capacity)
    hit_rate = monitor.ratio("service_cache", "Item cache lookups.", {"cache": "items"})
    corpus = make_corpus()
    orders = itertools.count()

    @perfcore.profile(name=DB_LOOKUP)
    async def db_lookup(item_id: int) -> dict[str, Any]:
        await asyncio.sleep(db_latency_s)  # the round trip to the database
        return {"id": item_id, "name": f"item-{item_id}", "price_cents": 100 + item_id % 900}

    @app.get("/items/{item_id}")
    @perfcore.profile(name=HANDLERS["/items"])
    async def get_item(item_id: int) -> dict[str, Any]:
        item = cache.get(item_id)
        if item is None:
            hit_rate.miss()
            item = await db_lookup(item_id)
            cache.put(item_id, item)
        else:
            hit_rate.hit()
        return item

    @app.get("/search")
    @perfcore.profile(name=HANDLERS["/search"])
    async def search(q: str = "") -> dict[str, Any]:
        return {"q": q, "results": search_corpus(corpus, q)}

    @app.get("/checkout")
    @perfcore.profile(name=HANDLERS["/checkout"])
    async def checkout(order: int | None = None) -> dict[str, Any]:
        n = next(orders) if order is None else order
        await asyncio.sleep(0.0005)  # the payment provider
        if checkout_fails(n):
            raise fastapi.HTTPException(status_code=500, detail=f"payment for order {n} failed")
        return {"order": n, "status": "paid"}

    @app.get("/healthz")
    @perfcore.profile(name=HANDLERS["/healthz"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(host: str, port: int, metrics_port: int, ready_line: bool = False) -> None:
    """Serve the app with uvicorn and perfcore's endpoint until SIGINT or SIGTERM.

    With ``ready_line``, prints one JSON line (``url``, ``metrics_url``, ``pid``) once both
    listen, for a driver that asked for port 0.
    """
    import uvicorn

    from perfcore import monitor

    app = create_app()
    rules = [*monitor.AlertRule.defaults(), monitor.AlertRule.parse(CACHE_RULE)]
    with monitor.Monitor(interval=1.0, rules=rules) as _mon:
        with monitor.serve_metrics(f"{host}:{metrics_port}") as endpoint:
            # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they
            # are TCP, and without it a response's two writes (headers, body) wait for the
            # client's delayed ACK, 40 ms a request on one keep-alive connection.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((host, port))
            sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
            bound = sock.getsockname()
            info = {
                "url": f"http://{bound[0]}:{bound[1]}",
                "metrics_url": f"http://{endpoint.host}:{endpoint.port}",
                "pid": os.getpid(),
            }
            if ready_line:
                print(json.dumps(info), flush=True)
            else:
                print(f"serving {info['url']}, perfcore endpoint {endpoint.url}", flush=True)
            config = uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=60,
            )
            asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def main(argv: list[str] | None = None) -> int:
    """The command: ``--serve``, or ``--scenario NAME`` (exit 1 when a check fails)."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import load

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--serve", action="store_true", help="only serve")
    mode.add_argument("--scenario", choices=load.SCENARIOS, help="run a load scenario")
    parser.add_argument("--host", default="127.0.0.1", help="--serve: the address (loopback)")
    parser.add_argument(
        "--port", type=int, help="the app's port (default 8000 with --serve, else a free one)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="perfcore's endpoint's port (default 9464 with --serve, else a free one)",
    )
    parser.add_argument("--ready-line", action="store_true", help=argparse.SUPPRESS)
    load.add_scenario_arguments(parser)
    args = parser.parse_args(argv)
    if args.serve:
        port = 8000 if args.port is None else args.port
        metrics_port = 9464 if args.metrics_port is None else args.metrics_port
        serve(args.host, port, metrics_port, ready_line=args.ready_line)
        return 0
    with load.ServiceProcess(
        [sys.executable, os.path.abspath(__file__)],
        port=args.port or 0,
        metrics_port=args.metrics_port or 0,
    ) as service:
        print(
            f"service {service.info['url']}, perfcore endpoint {service.info['metrics_url']}",
            file=sys.stderr,
            flush=True,
        )
        result = load.run_scenario(
            args.scenario,
            service.target(HANDLERS, db_lookup=DB_LOOKUP, checkout_fails=checkout_fails),
            **load.scenario_options(args),
        )
    print(load.format_result(result))
    if args.json:
        load.write_json(result, args.json)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
