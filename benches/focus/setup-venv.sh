#!/usr/bin/env bash
# Create the FOCUS benchmark's own virtualenv, target/bench-venv, with the peers
# pinned in benches/focus/requirements.txt (pandas, polars, DuckDB, pyarrow).
#
#   bash benches/focus/setup-venv.sh          # create or update
#   PYTHON=python3.11 bash benches/focus/setup-venv.sh
#
# Idempotent: a stamp holding the requirements file's sha256 makes a second run
# a no-op until requirements.txt changes. Nothing outside target/ is touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/bench-venv"
req="$here/requirements.txt"
python="${PYTHON:-python3.11}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "bench venv up to date: $venv"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv with $python"
    mkdir -p "$root/target"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
"$venv/bin/python" - <<'PY'
import duckdb, pandas, polars, pyarrow
print("bench venv ready:", "pandas", pandas.__version__, "polars", polars.__version__,
      "duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__)
PY
