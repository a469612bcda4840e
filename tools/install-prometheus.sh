#!/usr/bin/env bash
# Debian's prometheus package (prometheus and promtool) for the monitoring tests and
# `make run-monitoring`, if it is not there yet. Only the binaries are used: the
# package's own service is never started here.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "prometheus is missing: install it with 'apt-get install -y prometheus'" >&2
        [ "${CI:-}" = "true" ] && exit 1
        exit 0
    fi
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version | head -1
