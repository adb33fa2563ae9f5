#!/usr/bin/env bash
# Runs every test suite of the workspace: formatting, lints, the Rust tests (unit,
# integration, doc tests), the loom model checks, the docs, every example, the benches
# linted, and the Python wheel with pytest and stubtest. This is the README's test command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$SECONDS
# Each step also prints the free disk space: a CI machine once ran out of it mid-run.
step() {
    printf '\n==> [%4ds] %s (%s free)\n' "$((SECONDS - start))" "$*" \
        "$(df -h --output=avail "$ROOT" 2>/dev/null | tail -n 1 | tr -d ' ')"
}

# The release builds here (the examples, then the wheel, which reuses them) carry no debug
# info: the line tables `[profile.release]` keeps are for perf and callgrind on benches run by
# hand, and writing them cost the test command a large share of its release build. Both builds
# see the same setting, so the wheel still reuses what the examples' build compiled.
export CARGO_PROFILE_RELEASE_DEBUG=0

step "tools the tests read our exports with (chromium, go tool pprof, promtool, valgrind)"
bash "$ROOT/.ci/install-tools.sh"
# A test whose independent reader is missing fails instead of skipping.
export PERFCORE_REQUIRE_TOOLS=1

step "rustfmt"
cargo fmt --all --check

step "clippy (all crates, all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo test (all crates, doc tests included)"
cargo test --workspace --all-features

step "perfcore with the default features off (macros compile to nothing)"
cargo test -p perfcore --no-default-features --lib --tests
# Without `json`, serde_json must not be in a user's dependency graph at all.
if cargo tree -p perfcore --no-default-features --features enabled -e normal --prefix none \
    | grep -q '^serde_json '; then
    echo "error: serde_json is a dependency of perfcore without the json feature" >&2
    exit 1
fi

step "loom model checks of the record / snapshot / thread-exit protocol"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$ROOT/target/loom" \
    cargo test -p perfcore --lib --release -- loom_tests
# Nothing else reads the loom build: give its disk back.
rm -rf "$ROOT/target/loom"

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

step "examples, built in release (perfcore with the wheel's features: the wheel's build reuses it)"
cargo build --release --quiet -p perfcore-examples --examples

step "examples"
for example in examples/examples/*.rs; do
    name="$(basename "$example" .rs)"
    args=("target/example-$name.json")
    # The full table (1,000 trials a row, STATISTICS.md) takes a minute: a smaller one here.
    if [ "$name" = regression_rules ]; then args+=(--trials 100); fi
    # The sampler's cost over 3 s here; BENCHMARKS.md's figure is the 60 s run.
    if [ "$name" = sampler_cost ]; then args+=(--seconds 3); fi
    # The reports example writes a directory of reports.
    if [ "$name" = reports ]; then args=("target/example-reports"); fi
    cargo run --release --quiet -p perfcore-examples --example "$name" -- "${args[@]}"
done

step "the perfcore command answers (the timed quickstart check is .ci/regression-check.sh, see STATISTICS.md)"
# The debug build cargo test made for the command's integration tests: a release build of the
# command alone would compile perfcore again with other features (its tests run it anyway).
"$ROOT/target/debug/perfcore" --version

# The benches are type-checked and linted by clippy's --all-targets above; building them in
# release (the peers' C++ included) took five minutes of the budget and is left to
# `cargo bench`, which BENCHMARKS.md's figures come from.

step "python: wheel, pytest, stubtest"
bash "$ROOT/.ci/python-tests.sh"

step "all suites passed"
