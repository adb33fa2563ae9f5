#!/usr/bin/env bash
# Installs the programs the tests use as independent readers and real peers: chromium (the
# HTML report is opened and screenshotted), golang-go (`go tool pprof` reads our pprof files),
# prometheus (`promtool check metrics`, and the server the monitor's test scrapes through),
# prometheus-pushgateway, valgrind, npm (speedscope's published JSON schema),
# and Python's jsonschema and hdrh (HdrHistogram's reader). Idempotent: a tool already on the
# machine is not installed again, and `apt-get update` runs only when something is missing.
# Needs root (CI runs as root) or sudo.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium fonts-dejavu-core)
have go || need+=(golang-go)
# The prometheus package has the server too: the monitor's integration test scrapes through it.
have promtool || need+=(prometheus)
have prometheus-pushgateway || need+=(prometheus-pushgateway)
have valgrind || need+=(valgrind)
have npm || need+=(npm)
# `perfcore top` runs for real in a tmux session (perfcore/tests/top_tmux.rs).
have tmux || need+=(tmux)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
if [ "${#need[@]}" -gt 0 ]; then
    echo "install-tools: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
    echo "install-tools: chromium, go, prometheus, the pushgateway, valgrind, npm and tmux are present"
fi

python_modules=()
python3 -c 'import jsonschema' 2>/dev/null || python_modules+=('jsonschema>=4,<5')
python3 -c 'import hdrh' 2>/dev/null || python_modules+=('hdrhistogram>=0.10,<1')
if [ "${#python_modules[@]}" -gt 0 ]; then
    echo "install-tools: pip installing ${python_modules[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${python_modules[@]}" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${python_modules[@]}"
fi
