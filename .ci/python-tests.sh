#!/usr/bin/env bash
# Builds the `perfcore` Python wheel (perfcore-py/) and tests the installed
# wheel: pytest, then mypy's stubtest against the compiled extension module.
#
# Run from anywhere; paths are taken relative to the repository root. Needs a
# Rust toolchain, Python >= 3.11 with pip (override the interpreter with
# PYTHON=...), and PyPI through pip. The venv in target/py-venv is reused when
# present; the wheel directory is emptied on every run so that no old wheel is
# ever installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/target/py-venv"
WHEELS="$ROOT/target/wheels"

MATURIN_REQ='maturin>=1.9.4,<2'
PYTEST_REQ='pytest>=8.3,<10'
MYPY_REQ='mypy>=1.18,<3'
# A web framework, for the test that decorated endpoints work where services use them.
FASTAPI_REQ='fastapi>=0.110,<1'
HTTPX_REQ='httpx>=0.27,<1'
# The ASGI server of the example service (examples/python/service.py, tests/test_service.py).
UVICORN_REQ='uvicorn>=0.30,<1'
# A published pure-Python package, for the test that `perfcore run` counts calls as cProfile does.
MARKDOWN_REQ='markdown==3.11.3'
# HdrHistogram's Python reader (module hdrh): the test that decodes our HDR logs.
HDRH_REQ='hdrhistogram>=0.10,<1'

start=$SECONDS
log() { printf '==> [%3ds] %s\n' "$((SECONDS - start))" "$*"; }

# 1. The venv (recreated if a previous one is broken, e.g. its base Python moved).
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating venv $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
log "installing build and test tools into the venv ($("$PY" -V))"
"$PY" -m pip install --quiet --disable-pip-version-check \
    "$MATURIN_REQ" "$PYTEST_REQ" "$MYPY_REQ" "$FASTAPI_REQ" "$HTTPX_REQ" "$UVICORN_REQ" "$MARKDOWN_REQ" "$HDRH_REQ"

# 2. The wheel, into an emptied directory.
log "building the wheel"
rm -rf "$WHEELS"
mkdir -p "$WHEELS"
"$VENV/bin/maturin" build --release \
    -m "$ROOT/perfcore-py/Cargo.toml" \
    -i "$PY" \
    -o "$WHEELS"
shopt -s nullglob
wheels=("$WHEELS"/perfcore-*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "error: expected exactly one wheel in $WHEELS, found ${#wheels[@]}" >&2
    exit 1
fi
wheel="${wheels[0]}"

# 3. Install it, replacing whatever perfcore the venv had.
log "installing $(basename "$wheel")"
"$PY" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps --no-index "$wheel"

# 4. Tests, run outside the source tree so that only the installed wheel can be
#    imported (pyproject.toml also sets --import-mode=importlib).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
log "checking that the installed wheel is what gets imported"
(cd "$scratch" && "$PY" -c '
import pathlib, sys, sysconfig
import perfcore, perfcore._perfcore
site = {pathlib.Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
pkg = pathlib.Path(perfcore.__file__).resolve().parent
if pkg.parent not in site:
    sys.exit(f"perfcore imported from {pkg}, not from the venv site-packages")
print(f"perfcore {perfcore.__version__} from {pkg}")
')

log "pytest"
# A hang (a deadlock in a forked child, say) fails the run instead of stalling it.
(cd "$scratch" && timeout 600 "$VENV/bin/pytest" "$ROOT/perfcore-py/tests" -q -p no:cacheprovider)

log "mypy stubtest"
(cd "$scratch" && "$PY" -m mypy.stubtest perfcore._perfcore \
    --allowlist "$ROOT/perfcore-py/stubtest-allowlist.txt")

log "benchmark scripts, smoke run (tiny sizes: they must run; their figures mean nothing)"
(cd "$scratch" && "$PY" "$ROOT/perfcore-py/benches/overhead.py" --number 100 --rounds 1 >/dev/null)
so="$(cd "$scratch" && "$PY" -c 'import perfcore._perfcore as m; print(m.__file__)')"
cp "$so" "$scratch/a.so"
cp "$so" "$scratch/b.so"
(cd "$scratch" && "$PY" "$ROOT/perfcore-py/benches/ab.py" a.so b.so --number 100 --rounds 1 >/dev/null)

log "python tests passed"
