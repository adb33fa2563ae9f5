"""perfcore's exceptions: one tree under PerfcoreError; OSError subclasses for I/O."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

import perfcore
from perfcore import PerformanceProfiler, Snapshot


def test_exception_tree() -> None:
    assert issubclass(perfcore.PerfcoreError, Exception)
    assert issubclass(perfcore.SnapshotError, perfcore.PerfcoreError)
    # Bad snapshot data raised ValueError before SnapshotError existed; it still is one.
    assert issubclass(perfcore.SnapshotError, ValueError)
    assert perfcore.SnapshotError.__module__ == "perfcore._perfcore"


def test_bad_json_is_a_snapshot_error_with_the_reason() -> None:
    with pytest.raises(perfcore.SnapshotError, match="invalid snapshot.*line 1"):
        Snapshot.from_json("{not json")


def test_other_schema_version_is_a_snapshot_error() -> None:
    doc = json.loads(PerformanceProfiler().snapshot().to_json())
    doc["schema_version"] = 999
    with pytest.raises(perfcore.SnapshotError, match="schema version 999"):
        Snapshot.from_json(json.dumps(doc))


def test_bad_snapshot_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(perfcore.SnapshotError, match="bad.json") as caught:
        Snapshot.read_json(bad)
    assert isinstance(caught.value, perfcore.PerfcoreError)


def test_missing_file_is_file_not_found_with_errno() -> None:
    with pytest.raises(FileNotFoundError) as caught:
        Snapshot.read_json("/missing")
    assert caught.value.errno == errno.ENOENT
    assert caught.value.filename == "/missing"
    assert not isinstance(caught.value, perfcore.PerfcoreError)


def test_write_into_missing_directory_is_file_not_found(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "snap.json"
    with pytest.raises(FileNotFoundError) as caught:
        PerformanceProfiler().snapshot().write_json(target)
    assert caught.value.errno == errno.ENOENT


def test_bad_pickle_state_is_a_snapshot_error() -> None:
    with pytest.raises(perfcore.SnapshotError, match="FunctionStats"):
        perfcore.FunctionStats._from_json("{}")  # type: ignore[attr-defined]


def test_bad_arguments_stay_value_and_type_errors() -> None:
    with pytest.raises(ValueError, match="max_depth") as caught:
        PerformanceProfiler(max_depth=0)
    assert not isinstance(caught.value, perfcore.PerfcoreError)
    p = PerformanceProfiler()
    with pytest.raises(ValueError, match="warmup") as caught:
        p.profile_function(len, 10, "x", warmup=float("nan"))
    assert not isinstance(caught.value, perfcore.PerfcoreError)
    p.profile(name="f")(len)("x")
    with pytest.raises(ValueError) as caught:
        p.snapshot()["f"].quantile(2.0)
    assert not isinstance(caught.value, perfcore.PerfcoreError)
    with pytest.raises(TypeError):
        p.profile(errors="yes")  # type: ignore[call-overload]


def test_baseline_budget_and_import_errors_join_the_tree() -> None:
    e = perfcore
    assert issubclass(e.BaselineError, e.PerfcoreError)
    for cls, builtin in [
        (e.BaselineFormatError, ValueError),
        (e.BaselineSchemaError, ValueError),
        (e.BaselineNameError, ValueError),
        (e.BaselineNotFoundError, LookupError),
        (e.BaselineIOError, OSError),
    ]:
        assert issubclass(cls, e.BaselineError) and issubclass(cls, builtin), cls
        assert cls.__module__ == "perfcore._perfcore"
    assert issubclass(e.EnvironmentMismatchError, e.BaselineError)
    for cls in (e.BudgetError, e.BenchmarkImportError):
        assert issubclass(cls, e.PerfcoreError) and issubclass(cls, ValueError)
    # Where-attributes exist on every instance, None when they do not apply.
    assert e.BaselineError("x").path is None and e.BudgetError("x").line is None
