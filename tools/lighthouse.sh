#!/usr/bin/env bash
# Lighthouse's accessibility, best-practices and SEO scores for the list, rename,
# account, error and log-in pages (tools/lighthouse.py says how). Not part of
# `make test` (a run takes minutes here). Installs Lighthouse 12 from npm into
# tools/node/lighthouse (git-ignored) and uses Debian's chromium.
#   bash tools/lighthouse.sh                  # starts its own stack
#   bash tools/lighthouse.sh --url http://127.0.0.1:8000 --preset desktop
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="12.8.2"   # the last Lighthouse that runs on Debian 12's Node.js 20
target="$here/node/lighthouse"
installed="$target/node_modules/lighthouse/package.json"

if ! { [ -f "$installed" ] && grep -q "\"version\": \"$version\"" "$installed"; }; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "lighthouse: npm is needed to install Lighthouse (apt-get install -y npm)" >&2
        exit 1
    fi
    mkdir -p "$target"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$target" "lighthouse@$version" >/dev/null
fi
python="$here/../.venv/bin/python"
[ -x "$python" ] || python=python3
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
exec "$python" "$here/lighthouse.py" "$@"
