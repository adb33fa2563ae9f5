"""Decorated endpoints in a web framework, as services use them (FastAPI on Starlette).

FastAPI reads the endpoint's signature and (string) annotations to parse requests, and asks
whether it is a coroutine function to decide between awaiting it and running it in a
thread: the decorated function must answer all of that as the function itself would.
"""

from __future__ import annotations

import warnings

import pytest

import perfcore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # Starlette's notes about httpx
    fastapi = pytest.importorskip("fastapi")
    testclient = pytest.importorskip("fastapi.testclient")
    from pydantic import BaseModel

profiler = perfcore.PerformanceProfiler()
app = fastapi.FastAPI()


class Item(BaseModel):
    name: str
    qty: int = 1


@app.post("/items/{item_id}")
@profiler.profile(name="create_item")
async def create_item(item_id: int, item: Item, q: str | None = None) -> dict[str, object]:
    if item.qty < 0:
        raise fastapi.HTTPException(status_code=422, detail="negative quantity")
    return {"id": item_id, "name": item.name, "qty": item.qty, "q": q}


@app.get("/double")
@profiler.profile(name="double")
def double(n: int = 2) -> dict[str, int]:
    return {"n": n * 2}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fastapi_endpoints_are_parsed_awaited_and_counted() -> None:
    profiler.reset()
    client = testclient.TestClient(app)
    r = client.post("/items/5?q=x", json={"name": "a", "qty": 3})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": 5, "name": "a", "qty": 3, "q": "x"}
    assert client.post("/items/6", json={"name": "b"}).json()["qty"] == 1
    assert client.post("/items/7", json={"name": "c", "qty": -1}).status_code == 422
    assert client.post("/items/x", json={"name": "d"}).status_code == 422  # never called
    for n in range(5):
        assert client.get(f"/double?n={n}").json() == {"n": 2 * n}
    snap = profiler.snapshot()
    created, doubled = snap["create_item"], snap["double"]
    assert (created.count, created.errors) == (3, 1)
    assert created.busy_ns <= created.total_ns
    assert (doubled.count, doubled.errors) == (5, 0)
