#!/usr/bin/env bash
# axe-core, the accessibility rules engine the browser tests inject into each page
# (tests/e2e/test_accessibility.py), from npm into tools/node/axe (git-ignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="4.14.1"
target="$here/node/axe"
installed="$target/node_modules/axe-core/package.json"

if [ -f "$installed" ] && grep -q "\"version\": \"$version\"" "$installed"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-axe: npm is needed to install axe-core (apt-get install -y npm)" >&2
    exit 1
fi
mkdir -p "$target"
npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$target" "axe-core@$version" >/dev/null
test -f "$target/node_modules/axe-core/axe.min.js"
echo "axe-core $version in $target"
