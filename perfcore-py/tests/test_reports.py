"""Reports and exports of a snapshot from Python, read back by independent readers where
there is one on the machine (go tool pprof, hdrh, promtool)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import perfcore


def tool(name: str) -> str | None:
    """The tool's path; fails under PERFCORE_REQUIRE_TOOLS=1 when missing, else skips."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("PERFCORE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{name} is required (PERFCORE_REQUIRE_TOOLS=1); run .ci/install-tools.sh")
        pytest.skip(f"{name} is not installed")
    return path


def known_snapshot() -> perfcore.Snapshot:
    """parse takes 80% of the self time, render 20%: durations known exactly."""
    return perfcore.Snapshot.from_functions(
        [
            perfcore.FunctionStats.from_durations("app.parse", [4_000_000] * 100),
            perfcore.FunctionStats.from_durations("app.render", [1_000_000] * 100),
        ],
        0,
        1_000_000_000,
    )


def nested_snapshot() -> perfcore.Snapshot:
    p = perfcore.PerformanceProfiler(timeline=1024)

    @p.profile(name="outer")
    def outer() -> int:
        return sum(inner(i) for i in range(20))

    @p.profile(name="inner")
    def inner(i: int) -> int:
        return sum(range(i * 100))

    for _ in range(5):
        outer()
    return p.snapshot()


def test_markdown_ranks_by_self_time_and_shows_the_impact() -> None:
    md = known_snapshot().to_markdown(title="nightly")
    assert md.startswith("## nightly")
    assert "| 1 | `app.parse` | 100 | 400.00 ms | 80.0% |" in md
    assert "saves 40.0%" in md


def test_markdown_and_json_carry_a_comparison() -> None:
    base = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("f", [1_000 + i % 50 for i in range(2000)])], 0, 1
    )
    head = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("f", [2_000 + i % 50 for i in range(2000)])], 0, 1
    )
    cmp = perfcore.compare(base, head)
    assert "1 function regressed" in head.to_markdown(comparison=cmp)
    doc = json.loads(head.to_report_json(comparison=cmp, baseline_name="main"))
    assert doc["schema"] == "perfcore-report" and doc["schema_version"] == 1
    assert doc["baseline"] == "main"
    assert doc["comparison"]["functions"][0]["verdict"] == "regressed"


def test_report_json_lists_functions_hotspots_and_recommendations() -> None:
    doc = json.loads(known_snapshot().to_report_json())
    assert [f["name"] for f in doc["functions"]] == ["app.parse", "app.render"]
    assert doc["functions"][0]["self_share"] == pytest.approx(0.8)
    assert doc["hotspots"][0]["function"] == "app.parse"
    assert doc["recommendations"][0]["impact"]["saved_fraction"] == pytest.approx(0.4)


def test_html_is_one_self_contained_file() -> None:
    html = nested_snapshot().to_html(title="py <report>")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "py &lt;report&gt;" in html
    # Offline: nothing is fetched.
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_folded_and_speedscope_add_up_to_the_self_times() -> None:
    snap = nested_snapshot()
    weights: dict[str, int] = {}
    for line in snap.to_folded().splitlines():
        stack, value = line.rsplit(" ", 1)
        leaf = stack.split(";")[-1]
        weights[leaf] = weights.get(leaf, 0) + int(value)
    assert weights == {f.name: f.self_ns for f in snap.functions if f.self_ns}
    doc = json.loads(snap.to_speedscope())
    assert doc["$schema"].startswith("https://www.speedscope.app/file-format-schema")
    total = sum(doc["profiles"][0]["weights"])
    assert total == sum(f.self_ns for f in snap.functions)


def test_pprof_is_read_by_go_tool_pprof(tmp_path: Path) -> None:
    data = known_snapshot().to_pprof()
    assert gzip.decompress(data)  # gzip, as pprof expects
    path = tmp_path / "profile.pb.gz"
    path.write_bytes(data)
    go = tool("go")
    assert go is not None
    top = subprocess.run(
        [go, "tool", "pprof", "-top", "-sample_index=self", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line for line in top.splitlines() if line.strip().endswith(("app.parse", "app.render"))]
    assert rows[0].split()[-1] == "app.parse" and rows[1].split()[-1] == "app.render", top
    # 400 ms of self time: go prints it in its own units.
    assert rows[0].split()[0] in ("400ms", "0.40s", "400000us"), top


def test_hdr_log_is_read_by_hdrh() -> None:
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        if os.environ.get("PERFCORE_REQUIRE_TOOLS") == "1":
            pytest.fail("hdrh is required (PERFCORE_REQUIRE_TOOLS=1): pip install hdrhistogram")
        pytest.skip("hdrh is not installed")
    snap = perfcore.Snapshot.from_functions(
        [perfcore.FunctionStats.from_durations("f", [1_000 * (1 + i % 100) for i in range(10_000)])],
        0,
        1_000_000_000,
    )
    h = HdrHistogram.decode(base64.b64encode(snap.hdr_histogram("f")))
    f = snap["f"]
    for q, ours in ((50, f.p50_ns), (99, f.p99_ns)):
        assert abs(h.get_value_at_percentile(q) - ours) <= ours / 64, (q, ours)
    assert h.get_total_count() == 10_000
    log = snap.to_hdr_log()
    assert "Tag=f," in log
    with pytest.raises(KeyError):
        snap.hdr_histogram("nope")


def test_prometheus_text_passes_promtool() -> None:
    snap = known_snapshot()
    text = snap.to_prometheus(labels={"service": "checkout"})
    assert 'perfcore_function_duration_seconds_count{service="checkout",function="app.parse"} 100' in text
    assert 'perfcore_function_self_seconds_total{service="checkout",function="app.parse"} 0.4' in text
    assert text.endswith("# EOF\n")
    classic = snap.to_prometheus(format="prometheus")
    promtool = tool("promtool")
    assert promtool is not None
    run = subprocess.run([promtool, "check", "metrics"], input=classic, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    with pytest.raises(ValueError, match="openmetrics"):
        snap.to_prometheus(format="json")


def test_chrome_trace_needs_a_timeline() -> None:
    trace = json.loads(nested_snapshot().to_chrome_trace())
    spans = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
    assert sum(1 for e in spans if e["name"] == "outer") == 5
    assert sum(1 for e in spans if e["name"] == "inner") == 100
    with pytest.raises(ValueError, match="timeline"):
        known_snapshot().to_chrome_trace()


def test_perfcore_timeline_turns_the_default_profilers_timeline_on(tmp_path: Path) -> None:
    code = (
        "import json, perfcore\n"
        "@perfcore.profile(name='step')\n"
        "def step(): return sum(range(100))\n"
        "for _ in range(7): step()\n"
        "trace = json.loads(perfcore.snapshot().to_chrome_trace())\n"
        "print(sum(1 for e in trace['traceEvents'] if e.get('ph') == 'X' and e['name'] == 'step'))\n"
    )
    env = {**os.environ, "PERFCORE_TIMELINE": "64"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "7"
    # A value that is not a capacity is refused by name, and the timeline stays off.
    env["PERFCORE_TIMELINE"] = "lots"
    bad = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "ignoring PERFCORE_TIMELINE=lots" in bad.stderr
    assert bad.returncode != 0 and "no timeline" in bad.stderr
