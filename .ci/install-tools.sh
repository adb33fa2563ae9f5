#!/usr/bin/env bash
# Installs the programs the tests use as independent readers and real peers, from Debian's
# packages: chromium (the HTML report is opened and screenshotted), golang-go (`go tool
# pprof` reads our pprof files), prometheus (`promtool check metrics`), valgrind. Idempotent:
# a tool already on the machine is not installed again, and `apt-get update` runs only when
# something is missing. Needs root (CI runs as root) or sudo.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || need+=(chromium fonts-dejavu-core)
have go || [ -x /usr/lib/go/bin/go ] || need+=(golang-go)
have promtool || need+=(prometheus)
have valgrind || need+=(valgrind)

if [ "${#need[@]}" -eq 0 ]; then
    echo "install-tools: chromium, go, promtool and valgrind are present"
    exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
echo "install-tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The prometheus package starts a server where systemd runs; tests start their own.
