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
