#!/usr/bin/env bash
# Installs the external tools the export tests check their files with (idempotent; CI runs it
# as root before the tests). Each tool is installed only when it is missing.
#   go tool pprof (golang-go), promtool (prometheus), protoc (protobuf-compiler),
#   npm (speedscope's published JSON schema), python3 with jsonschema and hdrh.
set -euo pipefail

packages=()
command -v go >/dev/null || packages+=(golang-go)
command -v promtool >/dev/null || packages+=(prometheus)
command -v protoc >/dev/null || packages+=(protobuf-compiler)
command -v npm >/dev/null || packages+=(npm)
command -v python3 >/dev/null || packages+=(python3 python3-pip)
if ((${#packages[@]})); then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi

python_modules=()
python3 -c 'import jsonschema' 2>/dev/null || python_modules+=(jsonschema)
python3 -c 'import hdrh' 2>/dev/null || python_modules+=(hdrhistogram)
if ((${#python_modules[@]})); then
    python3 -m pip install --quiet "${python_modules[@]}" \
        || python3 -m pip install --quiet --break-system-packages "${python_modules[@]}"
fi
