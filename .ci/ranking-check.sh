#!/usr/bin/env bash
# Does perfcore's self-time ranking agree with an independent measurement? Runs the
# quickstart and the real_crates example natively (perfcore's figures) and under
# `valgrind --tool=callgrind` (instruction counts), and prints both rankings side by side
# (BENCHMARKS.md, "Does the ranking agree with callgrind?"). Not part of the test command:
# it takes a minute or two. Usage: .ci/ranking-check.sh [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-3}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
cargo build --release --quiet -p perfcore-examples --example quickstart --example real_crates
out=target/ranking
mkdir -p "$out"
for example in quickstart real_crates; do
    echo "## $example"
    bin="target/release/examples/$example"
    # perfcore's figures: the median run of RUNS by total self time is not needed, each run
    # is printed so the reader sees how much the ranking moves between runs.
    for run in $(seq 1 "$RUNS"); do
        "$bin" "$out/$example-$run.json" > /dev/null
    done
    valgrind --tool=callgrind --callgrind-out-file="$out/$example.callgrind" \
        "$bin" "$out/$example-under-callgrind.json" > /dev/null 2> "$out/$example.valgrind.log"
    for run in $(seq 1 "$RUNS"); do
        echo "### run $run"
        python3 .ci/callgrind_ranking.py "$out/$example-$run.json" "$out/$example.callgrind"
        echo
    done
done
