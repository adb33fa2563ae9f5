"""The ``perfcore`` command the wheel installs (the Rust crate's ``perfcore::cli``)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import perfcore
from perfcore import FunctionStats, Snapshot
from perfcore._cli import main


def script() -> Path:
    name = "perfcore.exe" if sys.platform == "win32" else "perfcore"
    path = Path(sysconfig.get_path("scripts")) / name
    assert path.is_file(), f"the wheel did not install {path}"
    return path


def write_run(path: Path, median_ns: int) -> Path:
    f = FunctionStats.from_durations("parse", [median_ns + i % 50 * 20 for i in range(1_000)])
    Snapshot.from_functions([f], 0, 1_000_000_000).write_json(path)
    return path


def test_installed_script_help_exits_0() -> None:
    done = subprocess.run([script(), "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Usage: perfcore" in done.stdout and "compare" in done.stdout


def test_installed_script_bad_file_exits_2_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = subprocess.run([script(), "show", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "bad.json" in done.stderr and done.stdout == ""


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfcore", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"perfcore {perfcore.__version__}"


def test_cli_main_writes_to_sys_stdout_and_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, same, slow = (
        write_run(tmp_path / "base.json", 100_000),
        write_run(tmp_path / "same.json", 100_000),
        write_run(tmp_path / "slow.json", 150_000),
    )
    assert main(["compare", str(base), str(same)]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(["compare", str(base), str(slow), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "| `parse` |" in out and "regressed" in out
    assert main(["show", str(tmp_path / "missing.json")]) == 2
    captured = capsys.readouterr()
    assert "missing.json" in captured.err and captured.out == ""


def test_cli_reads_baselines_saved_from_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = perfcore.BaselineStore(tmp_path / "store")
    store.save(perfcore.Baseline("main", Snapshot.read_json(write_run(tmp_path / "a.json", 100_000))))
    assert main(["--dir", str(store.dir), "baseline", "list"]) == 0
    assert "main" in capsys.readouterr().out
    slow = write_run(tmp_path / "slow.json", 150_000)
    assert main(["--dir", str(store.dir), "compare", "main", str(slow)]) == 1
    assert "parse" in capsys.readouterr().out


def test_non_ascii_output_is_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The Markdown report starts with an emoji: split across writes, it must still arrive whole.
    base = write_run(tmp_path / "base.json", 100_000)
    assert main(["compare", str(base), str(base), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "\ufffd" not in out and out.startswith("### ")


def test_perfcore_top_from_the_wheel_watches_a_python_endpoint_in_tmux(tmp_path: Path) -> None:
    """`perfcore top`, as pip installs it, run for real in a terminal (tmux) against the
    endpoint of this Python process: it shows the profiled function and quits on `q`."""
    import os
    import shutil
    import time

    from perfcore import monitor

    if shutil.which("tmux") is None:
        if os.environ.get("PERFCORE_REQUIRE_TOOLS") == "1":
            pytest.fail("tmux is missing: install it with .ci/install-tools.sh")
        pytest.skip("tmux is missing")
    profiler = perfcore.PerformanceProfiler()

    @profiler.profile(name="shop.price_basket")
    def price_basket(n: int) -> int:
        return sum(range(n))

    for i in range(200):
        price_basket(i)
    session = f"perfcore-py-top-{os.getpid()}"
    socket = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", socket]
    with monitor.serve_metrics("127.0.0.1:0", profiler=profiler) as server:
        url = f"http://127.0.0.1:{server.port}"
        command = f"{script()} top --url {url} --interval 200ms; echo top-exited-$?; sleep 30"
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", session, "-x", "140", "-y", "30", command],
            check=True,
        )
        try:

            def screen() -> str:
                done = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
                )
                return done.stdout

            deadline = time.monotonic() + 30
            while "price_basket" not in screen() and time.monotonic() < deadline:
                time.sleep(0.1)
            shown = screen()
            assert "price_basket" in shown and "perfcore top" in shown, shown
            assert "200" in shown, shown  # the call count
            subprocess.run([*tmux, "send-keys", "-t", session, "q"], check=True)
            deadline = time.monotonic() + 10
            while "top-exited-" not in screen() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "top-exited-0" in screen(), screen()
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
