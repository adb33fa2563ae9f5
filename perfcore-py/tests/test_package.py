"""Tests of the installed ``perfcore`` wheel: packaging, not profiling."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import re
import sysconfig
import tomllib
from pathlib import Path

import pytest

import perfcore
import perfcore._perfcore

WORKSPACE_MANIFEST = Path(__file__).resolve().parents[2] / "Cargo.toml"


def workspace_version() -> str:
    with WORKSPACE_MANIFEST.open("rb") as f:
        manifest = tomllib.load(f)
    version = manifest["workspace"]["package"]["version"]
    assert isinstance(version, str)
    return version


def site_dirs() -> set[Path]:
    paths = sysconfig.get_paths()
    return {Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()}


def test_version_matches_workspace_manifest() -> None:
    assert perfcore.__version__ == workspace_version()
    assert perfcore._perfcore.__version__ == perfcore.__version__


def test_distribution_metadata_version() -> None:
    cargo = workspace_version()
    if not re.fullmatch(r"\d+\.\d+\.\d+", cargo):
        pytest.skip(f"pre-release Cargo version {cargo!r} is spelt differently by PEP 440")
    assert importlib.metadata.version("perfcore") == cargo


def test_extension_module_is_compiled() -> None:
    path = perfcore._perfcore.__file__
    assert path is not None
    assert path.endswith((".so", ".pyd"))
    assert path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    spec = perfcore._perfcore.__spec__
    assert spec is not None
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


def test_imported_from_installed_wheel_not_source_tree() -> None:
    package_dir = Path(perfcore.__file__).resolve().parent
    assert package_dir.parent in site_dirs(), package_dir
    source_dir = WORKSPACE_MANIFEST.parent / "perfcore-py" / "python" / "perfcore"
    assert package_dir != source_dir.resolve()


def test_py_typed_is_shipped() -> None:
    package_dir = Path(perfcore.__file__).resolve().parent
    assert (package_dir / "py.typed").is_file()
    assert (package_dir / "_perfcore.pyi").is_file()
    files = importlib.metadata.files("perfcore")
    assert files is not None
    shipped = {f.as_posix() for f in files}
    assert "perfcore/py.typed" in shipped
    assert "perfcore/_perfcore.pyi" in shipped


def test_built_for_python_3_11_and_later() -> None:
    dist = importlib.metadata.distribution("perfcore")
    assert dist.metadata["Requires-Python"] == ">=3.11"
    wheel = dist.read_text("WHEEL")
    assert wheel is not None
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    assert tags and all(tag.startswith("cp311-abi3-") for tag in tags), tags
