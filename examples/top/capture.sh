#!/usr/bin/env bash
# Looks at `perfcore top` watching the example service under each load scenario, for real:
# the service serves on fixed loopback ports, `perfcore top` runs in a detached tmux session
# (160x45) against its endpoint, each scenario drives the service in turn, and near each
# scenario's end the screen is captured (tmux capture-pane) into examples/top/captures/.
#
#   bash examples/top/capture.sh [SECONDS_PER_SCENARIO]      (default 12)
#
# Needs tmux. Not part of the test command (perfcore/tests/top_tmux.rs is): this one is for
# people to read the result.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SECONDS_EACH="${1:-12}"
OUT="$ROOT/examples/top/captures"
APP_ADDR=127.0.0.1:18080
METRICS_ADDR=127.0.0.1:19464
SESSION="perfcore-top-capture-$$"

cargo build --release --quiet -p perfcore-examples --example service
cargo build --quiet -p perfcore --features cli --bin perfcore
SERVICE="$ROOT/target/release/examples/service"
PERFCORE="$ROOT/target/debug/perfcore"

"$SERVICE" --serve --addr "$APP_ADDR" --metrics-addr "$METRICS_ADDR" > /tmp/capture-service.log 2>&1 &
service_pid=$!
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    kill "$service_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do
    curl -fs "http://$METRICS_ADDR/-/healthy" > /dev/null 2>&1 && break
    sleep 0.2
done

tmux new-session -d -s "$SESSION" -x 160 -y 45 \
    "$PERFCORE top --url http://$METRICS_ADDR --interval 1s"
mkdir -p "$OUT"
for scenario in baseline load stress spike endurance soak; do
    "$SERVICE" --scenario "$scenario" --duration "${SECONDS_EACH}s" \
        --target "http://$APP_ADDR" --perfcore "http://$METRICS_ADDR" \
        --json "/tmp/capture-$scenario.json" > "/tmp/capture-$scenario.txt" 2>&1 &
    driver=$!
    # Most of the scenario, then the screen (top refreshes every second).
    sleep "$(( SECONDS_EACH * 4 / 5 ))"
    {
        echo "# perfcore top, the example service under the $scenario scenario"
        echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), ${SECONDS_EACH} s scenario, captured at $(( SECONDS_EACH * 4 / 5 )) s"
        tmux capture-pane -p -t "$SESSION"
    } > "$OUT/$scenario.txt"
    wait "$driver" || echo "the $scenario scenario's checks failed: /tmp/capture-$scenario.txt" >&2
    echo "captured $OUT/$scenario.txt"
done
# The detail of the selected function (the top one by self time), then quit.
tmux send-keys -t "$SESSION" Enter
sleep 1.5
tmux capture-pane -p -t "$SESSION" > "$OUT/detail.txt"
tmux send-keys -t "$SESSION" q
echo "captured $OUT/detail.txt"
