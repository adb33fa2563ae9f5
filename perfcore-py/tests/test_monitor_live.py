"""The metrics endpoint, the Pushgateway client and the monitor from Python
(perfcore.monitor.serve_metrics, push_metrics, Monitor), in threads, asyncio and forked
workers."""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

import perfcore
from perfcore import monitor


def fetch(url: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url)
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def sample_value(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in:\n{text}")


def wait_for(what: str, done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_serve_metrics_serves_a_profiler() -> None:
    profiler = perfcore.PerformanceProfiler()

    @profiler.profile
    def handle(n: int) -> int:
        return n * 2

    for i in range(5):
        handle(i)
    with monitor.serve_metrics("127.0.0.1:0", profiler=profiler, labels={"service": "shop"}) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        status, content_type, text = fetch(server.url)
        assert status == 200
        assert content_type.startswith("text/plain; version=0.0.4")
        series = 'perfcore_function_duration_seconds_count{service="shop",function="' 
        line = [l for l in text.splitlines() if l.startswith(series) and "handle" in l]
        assert len(line) == 1, text
        assert line[0].endswith(" 5")
        _, om_type, om = fetch(server.url, accept="application/openmetrics-text; version=1.0.0")
        assert om_type.startswith("application/openmetrics-text")
        assert om.endswith("# EOF\n")
        assert server.scrapes == 2
        assert "serving" in repr(server)
    assert not server.running
    server.stop()  # twice is fine


def test_a_port_in_use_and_a_bad_address_are_clear_errors() -> None:
    with monitor.serve_metrics("127.0.0.1:0") as server:
        with pytest.raises(monitor.MonitorIOError, match=f"127.0.0.1:{server.port}") as taken:
            monitor.serve_metrics(f"127.0.0.1:{server.port}")
    # perfcore's own, and the built-in class code that predates them catches.
    assert isinstance(taken.value, perfcore.PerfcoreError)
    assert isinstance(taken.value, OSError)
    with pytest.raises(monitor.MonitorConfigError, match="invalid address") as bad:
        monitor.serve_metrics("no port here")
    assert isinstance(bad.value, ValueError)
    assert isinstance(bad.value, monitor.MonitorError)
    assert issubclass(monitor.MonitorThreadError, RuntimeError)
    assert issubclass(perfcore.MonitorError, perfcore.PerfcoreError)


def test_errors_answer_with_status_codes() -> None:
    with monitor.serve_metrics("127.0.0.1:0") as server:
        with pytest.raises(urllib.error.HTTPError) as e:
            fetch(f"http://127.0.0.1:{server.port}/nothing")
        assert e.value.code == 404
        e.value.close()
        # A raw malformed request, then the endpoint still answers.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"NOT HTTP\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 400")
        assert fetch(server.url)[0] == 200
        assert server.errors == 2


class Gateway(http.server.BaseHTTPRequestHandler):
    """A loopback stand-in for a Pushgateway: records what is pushed."""

    pushes: list[tuple[str, str, str]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Gateway.pushes.append(("PUT", self.path, body))
        self.send_response(200)
        self.end_headers()

    def do_POST(self) -> None:
        self.do_PUT()

    def do_DELETE(self) -> None:
        Gateway.pushes.append(("DELETE", self.path, ""))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_push_metrics_puts_the_exposition_to_the_group_url() -> None:
    Gateway.pushes = []
    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{gateway.server_address[1]}"
        profiler = perfcore.PerformanceProfiler()
        with profiler.scope("batch_step"):
            pass
        monitor.push_metrics(url, "nightly", grouping={"instance": "runner/1"}, profiler=profiler)
        monitor.delete_metrics(url, "nightly", grouping={"instance": "runner/1"})
        (method, path, body), (dmethod, dpath, _) = Gateway.pushes
        assert method == "PUT"
        assert path == "/metrics/job/nightly/instance@base64/cnVubmVyLzE="
        assert 'perfcore_function_duration_seconds_count{function="batch_step"} 1' in body
        assert (dmethod, dpath) == ("DELETE", path)
        with pytest.raises(ValueError, match="http://"):
            monitor.push_metrics("https://gateway", "nightly")
        with pytest.raises(ValueError, match="method"):
            monitor.push_metrics(url, "nightly", method="patch")
    finally:
        gateway.shutdown()
        gateway.server_close()
    with pytest.raises(OSError):
        monitor.push_metrics(url, "nightly", timeout=2.0)  # nothing listens there now


def test_monitor_raises_the_error_rate_alert_through_a_callable() -> None:
    profiler = perfcore.PerformanceProfiler()
    events: list[dict[str, Any]] = []

    @profiler.profile
    def flaky(i: int) -> None:
        if i % 4 == 0:
            raise RuntimeError("boom")

    with monitor.Monitor(
        interval=0.02,
        rules=["function_errors: function_error_ratio > 0.05 severity critical"],
        on_alert=events.append,
        profiler=profiler,
    ) as m:
        for i in range(100):
            try:
                flaky(i)
            except RuntimeError:
                pass
        wait_for("a firing alert", lambda: any(e["state"] == "firing" for e in events))
        firing = next(e for e in events if e["state"] == "firing")
        assert firing["rule"] == "function_errors"
        assert firing["labels"]["function"].endswith("flaky")
        assert firing["value"] == pytest.approx(0.25)
        assert firing["severity"] == "critical"
        assert [a["rule"] for a in m.active_alerts()] == ["function_errors"]
        wait_for("a sample", lambda: m.latest() is not None)
        sample = m.latest()
        assert sample is not None and sample["memory_total_bytes"] > 0
        counts = m.sink_counts()
        assert counts["delivered"] >= 1 and counts["dropped"] == 0
    assert not m.running
    with pytest.raises(RuntimeError, match="stopped"):
        m.latest()


def test_monitor_defaults_and_served_gauges() -> None:
    with monitor.Monitor(interval=0.05) as m:
        assert len(m.rules) == len(monitor.AlertRule.defaults())
        wait_for("a sample", lambda: m.latest() is not None)
        with monitor.serve_metrics("127.0.0.1:0") as server:
            _, _, text = fetch(server.url)
        assert sample_value(text, "perfcore_system_memory_total_bytes") > 0
        assert "perfcore_system_cpu_utilization_ratio" in text
    with pytest.raises(TypeError, match="rules"):
        monitor.Monitor(rules=[42])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        monitor.Monitor(rules=["not a rule"])


def test_serving_inside_asyncio() -> None:
    profiler = perfcore.PerformanceProfiler()

    @profiler.profile
    async def handler(i: int) -> int:
        await asyncio.sleep(0)
        return i

    async def main() -> str:
        server = monitor.serve_metrics("127.0.0.1:0", profiler=profiler)
        try:
            await asyncio.gather(*(handler(i) for i in range(20)))
            # The endpoint's thread answers while the loop goes on with other work.
            loop = asyncio.get_running_loop()
            scrape = loop.run_in_executor(None, fetch, server.url)
            results = await asyncio.gather(scrape, *(handler(i) for i in range(20)))
            return str(results[0][2])
        finally:
            server.stop()

    text = asyncio.run(main())
    line = [l for l in text.splitlines() if l.startswith("perfcore_function_duration_seconds_count") and "handler" in l]
    assert len(line) == 1 and float(line[0].rsplit(" ", 1)[1]) >= 20, text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_each_forked_worker_serves_its_own_metrics() -> None:
    # gunicorn-style: the parent forks workers; each one starts its own endpoint after the
    # fork (threads do not survive a fork) on a port of its own, and records its own calls.
    children = []
    ports = []
    for worker in range(2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read)
            code = 0
            try:
                for _ in range(worker + 3):
                    with perfcore.scope("worker_job"):
                        pass
                server = monitor.serve_metrics("127.0.0.1:0", labels={"worker": str(worker)})
                os.write(write, f"{server.port}\n".encode())
                os.close(write)
                deadline = time.monotonic() + 30
                while server.scrapes < 1 and time.monotonic() < deadline:
                    time.sleep(0.01)
                server.stop()
            except BaseException:
                code = 1
            os._exit(code)
        os.close(write)
        with os.fdopen(read) as r:
            ports.append(int(r.readline()))
        children.append(pid)
    try:
        for worker, port in enumerate(ports):
            _, _, text = fetch(f"http://127.0.0.1:{port}/metrics")
            series = f'perfcore_function_duration_seconds_count{{worker="{worker}",function="worker_job"}}'
            assert sample_value(text, series) == worker + 3
    finally:
        for pid in children:
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
