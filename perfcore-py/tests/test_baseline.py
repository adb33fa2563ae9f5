"""Baselines and the baseline store from Python, and their errors."""

from __future__ import annotations

import errno
import json
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import perfcore
from perfcore import Baseline, BaselineStore, Environment, FunctionStats, Snapshot


def snap(ns: int = 1_000, calls: int = 100) -> Snapshot:
    f = FunctionStats.from_durations("f", [ns + i % 7 for i in range(calls)])
    return Snapshot.from_functions([f], 0, 1_000_000)


def test_environment_names_the_python_runtime() -> None:
    env = Environment.capture()
    assert env.runtime == f"{platform.python_implementation()} {platform.python_version()}"
    assert env.os and env.arch and env.perfcore_version == perfcore.__version__
    assert env.build_profile in {"release", "debug"}
    assert env.created_unix_ns > 0
    assert env.differences(env) == []
    assert env.to_dict()["runtime"] == env.runtime
    assert env == env and "Environment(" in repr(env)
    if env.git is not None:
        assert env.commit == env.git["commit"] and len(env.git["commit"]) == 40


def test_baseline_round_trips(tmp_path: Path) -> None:
    b = Baseline("main", snap(), labels={"job": "ci"})
    assert (b.name, b.labels, b.schema_version) == ("main", {"job": "ci"}, 1)
    assert b.environment.runtime.startswith(platform.python_implementation())
    assert b.snapshot["f"].count == 100
    assert b.summary()["f"].count == 100
    assert Baseline.from_json(b.to_json()) == b
    b.write_json(tmp_path / "b.json")
    assert Baseline.read_json(tmp_path / "b.json") == b


def test_fleet_merge_warns_and_strict_refuses() -> None:
    env = Environment.capture()
    fleet = Baseline("fleet", snap(), environment=env)
    assert fleet.merge(Baseline("b", snap())) == []
    assert fleet.snapshot["f"].count == 200 and len(fleet.machines) == 1
    odd = json.loads(Baseline("odd", snap()).to_json())
    odd["environment"]["build_profile"] = "profiling"
    other = Baseline.from_json(json.dumps(odd))
    with pytest.raises(perfcore.EnvironmentMismatchError, match="build_profile") as caught:
        fleet.merge(other, strict=True)
    assert caught.value.differences == [("build_profile", env.build_profile, "profiling")]
    assert fleet.snapshot["f"].count == 200, "nothing merged"
    assert fleet.merge(other) == [("build_profile", env.build_profile, "profiling")]
    assert fleet.snapshot["f"].count == 300


def test_store_save_load_list_history_delete(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path, retention=3)
    assert store.dir == tmp_path and store.retention == 3
    assert store.list() == [] and len(store.history("main")) == 0
    for i in range(5):
        saved = store.save(Baseline("main", snap(1_000 + i)))
        assert saved.id == i + 1 and saved.name == "main"
    assert saved.dropped == 1 and saved.history == store.history_path("main")
    assert store.baseline_path("main") == tmp_path / "baselines" / "main.json"
    history = store.history("main")
    assert [r.id for r in history.runs] == [3, 4, 5]
    assert history.latest is not None and history.latest.summary["f"].count == 100
    assert history.latest.environment.runtime == Environment.capture().runtime
    loaded = store.load("main")
    assert loaded.snapshot["f"].min_ns == 1_004
    store.save(Baseline("other", snap()))
    assert [(i.name, i.functions) for i in store.list()] == [("main", 1), ("other", 1)]
    assert store.list()[0].runs == 3
    store.delete("other")
    assert [i.name for i in store.list()] == ["main"]
    with pytest.raises(perfcore.BaselineNotFoundError):
        store.delete("other")


def test_record_run_feeds_the_history_and_compare(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.save(Baseline("main", snap()))
    for i in range(4):
        store.record_run("main", snap(1_000 + 10 * i), labels={"i": str(i)})
    store.record_run("main", snap().summary())
    history = store.history("main")
    assert len(history) == 6 and history.runs[1].labels == {"i": "0"}
    assert [b.name for b in store.list()] == ["main"]
    report = perfcore.compare(store.load("main"), snap(), history)
    assert report.function("f").verdict == "unchanged"  # type: ignore[union-attr]


def test_default_dir_is_perfcore_dir_or_dot_perfcore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFCORE_DIR", str(tmp_path / "env"))
    assert BaselineStore().dir == tmp_path / "env"
    monkeypatch.delenv("PERFCORE_DIR")
    assert BaselineStore().dir == Path(".perfcore")


def test_unknown_name_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(perfcore.BaselineNotFoundError, match="no baseline named") as caught:
        BaselineStore(tmp_path).load("main")
    e = caught.value
    assert isinstance(e, perfcore.BaselineError) and isinstance(e, perfcore.PerfcoreError)
    assert isinstance(e, LookupError)
    assert (e.name, e.dir) == ("main", str(tmp_path))


def test_corrupt_baseline_names_file_line_and_column(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.save(Baseline("main", snap()))
    path = store.baseline_path("main")
    path.write_text(path.read_text()[:40])
    with pytest.raises(perfcore.BaselineFormatError, match="main.json") as caught:
        store.load("main")
    e = caught.value
    assert isinstance(e, ValueError) and isinstance(e, perfcore.BaselineError)
    assert e.path == str(path) and e.line is not None and e.column is not None
    assert e.field is None


def test_hand_edited_field_is_named(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.save(Baseline("main", snap()))
    path = store.baseline_path("main")
    doc = json.loads(path.read_text())
    doc["snapshot"]["functions"][0]["count"] = -1
    path.write_text(json.dumps(doc))
    with pytest.raises(perfcore.BaselineFormatError) as caught:
        store.load("main")
    assert caught.value.field == "snapshot.functions[0].count"
    assert "snapshot.functions[0].count" in str(caught.value)


def test_snapshot_that_does_not_add_up(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.save(Baseline("main", snap()))
    path = store.baseline_path("main")
    doc = json.loads(path.read_text())
    doc["snapshot"]["functions"][0]["count"] = 7
    path.write_text(json.dumps(doc))
    with pytest.raises(perfcore.BaselineFormatError, match="inconsistent") as caught:
        store.load("main")
    assert caught.value.path == str(path) and caught.value.field == "snapshot"


def test_damaged_history_names_the_run(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    for _ in range(2):
        store.save(Baseline("main", snap()))
    path = store.history_path("main")
    doc = json.loads(path.read_text())
    doc["runs"][1]["id"] = 1
    path.write_text(json.dumps(doc))
    with pytest.raises(perfcore.BaselineFormatError, match="runs\\[1\\].id") as caught:
        store.history("main")
    assert caught.value.field == "runs[1].id"


def test_newer_schema_is_refused_with_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    doc = json.loads(Baseline("main", snap()).to_json())
    doc["schema_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(perfcore.BaselineSchemaError, match="schema version 99") as caught:
        Baseline.read_json(path)
    assert (caught.value.found, caught.value.oldest, caught.value.newest) == (99, 1, 1)
    assert caught.value.path == str(path)


def test_bad_names_and_retention(tmp_path: Path) -> None:
    with pytest.raises(perfcore.BaselineNameError, match="'/'") as caught:
        Baseline("a/b", snap())
    assert isinstance(caught.value, ValueError) and caught.value.name == "a/b"
    with pytest.raises(perfcore.BaselineNameError):
        BaselineStore(tmp_path).load("../x")
    with pytest.raises(ValueError, match="retention") as retention:
        BaselineStore(tmp_path, retention=0)
    assert not isinstance(retention.value, perfcore.PerfcoreError)


def test_io_errors_are_os_errors_with_errno(tmp_path: Path) -> None:
    with pytest.raises(perfcore.BaselineIOError) as caught:
        Baseline.read_json(tmp_path / "missing.json")
    e = caught.value
    assert isinstance(e, OSError) and isinstance(e, perfcore.BaselineError)
    assert e.errno == errno.ENOENT and e.filename == str(tmp_path / "missing.json")
    assert e.path == e.filename
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(perfcore.BaselineIOError) as caught:
        BaselineStore(blocker).save(Baseline("main", snap()))
    assert caught.value.errno in {errno.ENOTDIR, errno.EEXIST}


def test_list_reports_or_skips_broken_files(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    store.save(Baseline("good", snap()))
    (tmp_path / "baselines" / "broken.json").write_text("{")
    with pytest.raises(perfcore.BaselineFormatError, match="broken.json"):
        store.list()
    assert [i.name for i in store.list(skip_broken=True)] == ["good"]


def test_two_processes_saving_keep_every_run(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from perfcore import Baseline, BaselineStore, FunctionStats, Snapshot
        store = BaselineStore(sys.argv[1])
        f = FunctionStats.from_durations("f", range(1, 101))
        for _ in range(20):
            store.save(Baseline("main", Snapshot.from_functions([f])))
        """
    )
    children = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)]) for _ in range(2)]
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    assert [r.id for r in BaselineStore(tmp_path).history("main").runs] == list(range(1, 41))
    assert BaselineStore(tmp_path).load("main").snapshot["f"].count == 100
