#!/usr/bin/env bash
# The real check of issue 9: the quickstart run twice unchanged shows no regression; with a
# 20% slowdown injected into one of its functions (QUICKSTART_SLOWDOWN), that function and
# only it regresses. Usage: regression-check.sh PERFCORE_BINARY QUICKSTART_BINARY
set -euo pipefail
perfcore="$1"
quickstart="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$quickstart" "$work/base.json" >/dev/null
"$quickstart" "$work/same.json" >/dev/null
QUICKSTART_SLOWDOWN=quickstart::aggregate:20 "$quickstart" "$work/slow.json" >/dev/null

echo "unchanged:"
"$perfcore" compare "$work/base.json" "$work/same.json"

echo "aggregate 20% slower:"
set +e
"$perfcore" compare "$work/base.json" "$work/slow.json" --format markdown | tee "$work/slow.md"
"$perfcore" compare "$work/base.json" "$work/slow.json" --format json >"$work/slow.json.verdict"
code=$?
set -e
if [ "$code" -ne 1 ]; then
    echo "error: the slowed run exited $code, not 1 (a regression)" >&2
    exit 1
fi
regressed="$(grep -o '"function": "[^"]*"' "$work/slow.json.verdict" | head -1)"
count="$(grep -c '"verdict": "regressed"' "$work/slow.json.verdict" || true)"
# One function-level verdict and one metric-level verdict at least name the regression.
if [ "$regressed" != '"function": "quickstart::aggregate"' ]; then
    echo "error: the worst function is $regressed, not quickstart::aggregate" >&2
    exit 1
fi
others="$(python3 - "$work/slow.json.verdict" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(" ".join(f["function"] for f in report["functions"] if f["verdict"] == "regressed"))
PY
)"
if [ "$others" != "quickstart::aggregate" ]; then
    echo "error: regressed: $others (expected quickstart::aggregate alone)" >&2
    exit 1
fi
echo "ok: quickstart::aggregate and only it regressed ($count regressed verdicts in the report)"
