"""perfcore.SystemSampler: the system sampler from Python (issue 13).

No timing assertions: each test waits for samples with a generous timeout loop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from typing import Any, Callable

import pytest

from perfcore._perfcore import SystemSampler

FAST = 0.02


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_samples_arrive_with_the_documented_fields() -> None:
    with SystemSampler(interval=FAST) as s:
        wait_for(lambda: s.samples_taken() >= 3, "three samples")
        latest = s.latest()
        assert latest is not None
        assert 0.0 <= latest["cpu_utilization"] <= 1.0
        assert latest["cores"] and all(0.0 <= c <= 1.0 for c in latest["cores"])
        assert 0 < latest["memory_used_bytes"] <= latest["memory_total_bytes"]
        proc = latest["process"]
        assert proc["pid"] == os.getpid()
        assert proc["resident_bytes"] > 0
        if sys.platform == "linux":
            assert proc["threads"] >= 2
            assert proc["open_fds"] >= 3
        for d in latest["disks"]:
            assert set(d) == {
                "mount",
                "device",
                "file_system",
                "used_bytes",
                "total_bytes",
                "read_bytes_total",
                "written_bytes_total",
            }
            assert d["file_system"] not in ("tmpfs", "proc", "sysfs", "devtmpfs", "squashfs")
        names = {o["name"] for o in s.observations()}
        assert {"system_cpu_utilization_ratio", "system_memory_used_bytes", "process_cpu_seconds_total"} <= names
        core = next(o for o in s.observations() if o["name"] == "system_cpu_core_utilization_ratio")
        assert core["labels"] == {"core": "0"}
        assert core["kind"] == "gauge"


def test_history_and_trend() -> None:
    with SystemSampler(interval=FAST, disks=False, networks=False) as s:
        wait_for(lambda: s.samples_taken() >= 3, "three samples")
        pts = s.history("system_memory_used_bytes")
        assert len(pts) >= 3
        assert all(p["min"] <= p["mean"] <= p["max"] for p in pts)
        assert [p["at_unix_ns"] for p in pts] == sorted(p["at_unix_ns"] for p in pts)
        assert s.history("system_memory_used_bytes", range=7200.0)  # 10 s aggregates
        assert s.history("no_such_metric") == []
        assert s.history("system_cpu_core_utilization_ratio", {"core": "0"}, 60.0)
        t = s.trend("system_memory_utilization_ratio", window=60.0)
        assert t is not None
        assert set(t) == {"slope_per_second", "current", "time_to_exhaustion"}
        assert t["time_to_exhaustion"] is None or t["time_to_exhaustion"] >= 0.0
        assert s.trend("no_such_metric") is None
        assert s.memory_bytes() > 0
        assert s.own_cpu_seconds() >= 0.0


def test_on_sample_gets_dicts_and_exceptions_are_counted_not_fatal() -> None:
    seen: list[dict[str, Any]] = []

    def cb(sample: dict[str, Any]) -> None:
        seen.append(sample)
        if len(seen) % 2 == 0:
            raise RuntimeError("expected by the test")

    s = SystemSampler(interval=FAST, disks=False, networks=False, on_sample=cb)
    wait_for(lambda: len(seen) >= 4, "four callbacks")
    s.stop()
    assert s.callback_errors() == len(seen) // 2  # every second call raised; sampling went on
    assert all("cpu_utilization" in x for x in seen)
    assert not s.running()
    s.stop()  # idempotent
    assert s.latest() is None


def test_callback_errors_while_running() -> None:
    def cb(sample: dict[str, Any]) -> None:
        raise ValueError("expected by the test")

    with SystemSampler(interval=FAST, disks=False, networks=False, on_sample=cb) as s:
        wait_for(lambda: s.callback_errors() >= 2, "two callback errors")
        assert s.latest() is not None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="interval"):
        SystemSampler(interval=0.001)
    with pytest.raises(ValueError, match="interval"):
        SystemSampler(interval=-1.0)
    with pytest.raises(ValueError, match="callable"):
        SystemSampler(on_sample=42)  # type: ignore[arg-type]
    with SystemSampler(interval=3600.0) as s:  # stop wakes a long interval at once
        with pytest.raises(ValueError, match="range"):
            s.history("x", range=float("nan"))
        assert "SystemSampler(" in repr(s)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_sampler() -> None:
    parent = SystemSampler(interval=FAST, disks=False, networks=False)
    wait_for(lambda: parent.samples_taken() >= 1, "a sample in the parent")
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may deadlock.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not survive; start a new sampler
        code = 1
        try:
            child = SystemSampler(interval=FAST, disks=False, networks=False)
            deadline = time.monotonic() + 60
            while child.samples_taken() < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            latest = child.latest()
            if latest is not None and latest["process"]["pid"] == os.getpid():
                code = 0
            child.stop()
            parent.stop()  # its thread is the parent's: the child lets go without joining it
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert parent.running()
    parent.stop()


EXIT_WITHOUT_STOP = """
import time
from perfcore._perfcore import SystemSampler
seen = []
s = SystemSampler(interval=0.01, disks=False, networks=False, on_sample=lambda d: seen.append(1))
while len(seen) < 3:
    time.sleep(0.01)
"""


def test_the_interpreter_exits_cleanly_with_a_sampler_still_calling_back() -> None:
    # atexit stops the samplers before finalization: a callback during it would abort.
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", EXIT_WITHOUT_STOP], timeout=120, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
