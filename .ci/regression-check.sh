#!/usr/bin/env bash
# The real check of issue 9: the quickstart run unchanged shows no regression; with a 20%
# slowdown injected into one of its functions (QUICKSTART_SLOWDOWN), that function and only
# it regresses. Usage: regression-check.sh PERFCORE_BINARY QUICKSTART_BINARY [REPEATS]
#
# A shared machine runs whole runs faster or slower at random (on the reference VM a 100 ms
# run lands near 90 ms or near 140 ms when its host is busy, and a 50 µs function's median
# moves by 5-8% between runs), which a single pair of runs cannot tell from a change. So each
# variant runs REPEATS times (default 7), interleaved with the others so that all see the
# same host, and each variant's runs are merged (`perfcore merge`, lossless) before they are
# compared: the host's moods average out over the repeats, the code's cost does not.
set -euo pipefail
perfcore="$1"
quickstart="$2"
repeats="${3:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for i in $(seq 1 "$repeats"); do
    "$quickstart" "$work/base-$i.json" >/dev/null
    "$quickstart" "$work/same-$i.json" >/dev/null
    QUICKSTART_SLOWDOWN=quickstart::aggregate:20 "$quickstart" "$work/slow-$i.json" >/dev/null
done
for variant in base same slow; do
    "$perfcore" merge "$work/$variant"-*.json -o "$work/$variant.json" >/dev/null
done

echo "unchanged, $repeats runs each:"
if ! "$perfcore" compare "$work/base.json" "$work/same.json"; then
    echo "error: the unchanged runs were judged a regression" >&2
    exit 1
fi

echo "aggregate 20% slower, $repeats runs each:"
set +e
"$perfcore" compare "$work/base.json" "$work/slow.json" --format markdown
"$perfcore" compare "$work/base.json" "$work/slow.json" --format json >"$work/verdict.json"
code=$?
set -e
if [ "$code" -ne 1 ]; then
    echo "error: the slowed run exited $code, not 1 (a regression)" >&2
    exit 1
fi
regressed="$(python3 - "$work/verdict.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(" ".join(f["function"] for f in report["functions"] if f["verdict"] == "regressed"))
PY
)"
if [ "$regressed" != "quickstart::aggregate" ]; then
    echo "error: regressed: '$regressed' (expected quickstart::aggregate alone)" >&2
    exit 1
fi
echo "ok: quickstart::aggregate and only it regressed"
