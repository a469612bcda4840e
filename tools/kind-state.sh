#!/usr/bin/env bash
# What an upgrade of the chart on kind must not change (the CI workflow compares it
# before and after): which pod is the PostgreSQL primary and how often its server
# restarted, the database passwords, and the frontend's keys (the session key and the
# service-token key). Environment: RELEASE, NAMESPACE, DATABASE_MODE.
set -euo pipefail
ns=(--namespace "$NAMESPACE")
if [ "$DATABASE_MODE" = bundled ]; then
    pod="$RELEASE-postgresql-primary-0"
    secret="$RELEASE-postgresql"
else
    pod="$(kubectl "${ns[@]}" get cluster "$RELEASE-db" -o jsonpath='{.status.currentPrimary}')"
    secret="$RELEASE-db-app"
fi
echo "primary $pod"
kubectl "${ns[@]}" get pod "$pod" \
    -o jsonpath='uid {.metadata.uid}{"\n"}restarts {.status.containerStatuses[?(@.name=="postgres")].restartCount}{.status.containerStatuses[?(@.name=="postgresql")].restartCount}{"\n"}'
kubectl "${ns[@]}" get secret "$secret" -o jsonpath='{.data}' | sha256sum | sed 's/^/passwords /'
kubectl "${ns[@]}" get secret "$RELEASE-frontend" -o jsonpath='{.data}' | sha256sum | sed 's/^/keys /'
