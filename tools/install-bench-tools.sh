#!/usr/bin/env bash
# Installs what `make bench` (and its smoke test) needs, if it is not there yet:
# Debian's wrk (the load generator) and bench/requirements.txt into the venv
# (matplotlib for the plot, Flask-SQLAlchemy for the ORM reference, py-spy for profiles).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$repo/.venv}"

if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi

stamp="$venv/.installed-bench"
if [ ! -f "$stamp" ] || [ "$repo/bench/requirements.txt" -nt "$stamp" ]; then
    "$venv/bin/pip" install --quiet -r "$repo/bench/requirements.txt"
    touch "$stamp"
fi
