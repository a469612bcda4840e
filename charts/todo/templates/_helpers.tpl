{{/*
Shared blocks: names, labels, security contexts, probes, database settings.
Each service template includes these instead of repeating them.
*/}}

{{- define "todo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix; components append "-frontend", "-postgresql-rw", ... */}}
{{- define "todo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: call with (dict "root" $ "component" "frontend"). */}}
{{- define "todo.labels" -}}
helm.sh/chart: {{ include "todo.chart" .root }}
{{ include "todo.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: todo
{{- end }}

{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image of a service: call with (dict "root" $ "service" "frontend"). */}}
{{- define "todo.serviceImage" -}}
{{- $values := index .root.Values .service }}
{{- $repository := $values.image.repository | default (printf "%s/%s/todo-%s" .root.Values.image.registry .root.Values.image.namespace .service) }}
{{- $tag := $values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "todo.postgresqlImage" -}}
{{- with .Values.postgresql.image }}
{{- printf "%s/%s:%s" .registry .repository .tag }}
{{- end }}
{{- end }}

{{/* Pod-level security for the Python services (the images' fixed UID). */}}
{{- define "todo.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod-level security for PostgreSQL: the official image's postgres user is 999. */}}
{{- define "todo.postgresqlPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
fsGroup: 999
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "todo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Probes of a Python service: liveness never touches a dependency, readiness does. */}}
{{- define "todo.httpProbes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end }}

{{/*
Graceful stop: the pod leaves the Service endpoints while preStop sleeps, then gunicorn
gets SIGTERM and finishes in-flight requests within GUNICORN_GRACEFUL_TIMEOUT.
*/}}
{{- define "todo.lifecycle" -}}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "5"]
{{- end }}

{{/* Rolling update that never drops below the desired count. */}}
{{- define "todo.rollingUpdate" -}}
strategy:
  type: RollingUpdate
  rollingUpdate:
    maxUnavailable: 0
    maxSurge: 1
{{- end }}

{{- define "todo.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "todo.selectorLabels" . | nindent 8 }}
{{- end }}

{{/* Environment every Python service shares: call with (dict "root" $ "service" "reader"). */}}
{{- define "todo.commonEnv" -}}
{{- $values := index .root.Values .service }}
- name: PORT
  value: "8080"
- name: LOG_LEVEL
  value: {{ .root.Values.logLevel | quote }}
- name: GUNICORN_WORKERS
  value: {{ $values.gunicorn.workers | quote }}
- name: GUNICORN_THREADS
  value: {{ $values.gunicorn.threads | quote }}
- name: GUNICORN_GRACEFUL_TIMEOUT
  value: "20"
{{- end }}

{{/* Writable scratch space: the root filesystem is read-only. */}}
{{- define "todo.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "todo.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* ---------- Secrets ---------- */}}

{{- define "todo.postgresqlSecretName" -}}
{{- .Values.postgresql.auth.existingSecret | default (printf "%s-postgresql" (include "todo.fullname" .)) }}
{{- end }}

{{- define "todo.frontendSecretName" -}}
{{- .Values.frontend.existingSecret | default (printf "%s-frontend" (include "todo.fullname" .)) }}
{{- end }}

{{- define "todo.externalDatabaseSecretName" -}}
{{- printf "%s-external-database" (include "todo.fullname" .) }}
{{- end }}

{{/*
A generated secret value, reused from the Secret already in the cluster so that
`helm upgrade` keeps it: call with (dict "existing" $lookedUpSecret "key" "password").
`lookup` returns nothing under `helm template`/--dry-run/GitOps tools: use existingSecret there.
*/}}
{{- define "todo.generatedValue" -}}
{{- $data := dig "data" (dict) (.existing | default dict) }}
{{- if hasKey $data .key }}
{{- index $data .key }}
{{- else }}
{{- randAlphaNum 32 | b64enc }}
{{- end }}
{{- end }}

{{/* ---------- Database endpoints ---------- */}}

{{- define "todo.postgresqlPrimaryService" -}}
{{- printf "%s-postgresql-rw" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.postgresqlReadService" -}}
{{- printf "%s-postgresql-ro" (include "todo.fullname" .) }}
{{- end }}

{{/*
Where a database role connects: call with (dict "root" $ "role" "primary"|"replica").
Returns a YAML map: host, port, database, user, sslmode, secretName, secretKey.
*/}}
{{- define "todo.databaseEndpoint" -}}
{{- $root := .root }}
{{- if $root.Values.postgresql.enabled }}
host: {{ ternary (include "todo.postgresqlPrimaryService" $root) (include "todo.postgresqlReadService" $root) (eq .role "primary") }}
port: {{ $root.Values.postgresql.service.port }}
database: {{ $root.Values.postgresql.auth.database }}
user: {{ $root.Values.postgresql.auth.username }}
sslmode: prefer
secretName: {{ include "todo.postgresqlSecretName" $root }}
secretKey: password
{{- else }}
{{- $primary := $root.Values.externalDatabase.primary }}
{{- $db := $primary }}
{{- $secretKey := "primary-password" }}
{{- if and (eq .role "replica") $root.Values.externalDatabase.replica.host }}
{{- $db = $root.Values.externalDatabase.replica }}
{{- $secretKey = "replica-password" }}
{{- end }}
host: {{ $db.host }}
port: {{ $db.port }}
database: {{ $db.database }}
user: {{ $db.user }}
sslmode: {{ $db.sslmode }}
{{- if $db.existingSecret }}
secretName: {{ $db.existingSecret }}
secretKey: {{ $db.existingSecretPasswordKey }}
{{- else if $db.password }}
secretName: {{ include "todo.externalDatabaseSecretName" $root }}
secretKey: {{ $secretKey }}
{{- end }}
{{- end }}
{{- end }}

{{/*
DATABASE_* (or another prefix) variables for one endpoint:
call with (dict "root" $ "role" "primary" "prefix" "DATABASE").
*/}}
{{- define "todo.databaseEnv" -}}
{{- $db := include "todo.databaseEndpoint" . | fromYaml }}
- name: {{ .prefix }}_HOST
  value: {{ $db.host | quote }}
- name: {{ .prefix }}_PORT
  value: {{ $db.port | quote }}
- name: {{ .prefix }}_NAME
  value: {{ $db.database | quote }}
- name: {{ .prefix }}_USER
  value: {{ $db.user | quote }}
- name: {{ .prefix }}_SSLMODE
  value: {{ $db.sslmode | quote }}
{{- if $db.secretName }}
- name: {{ .prefix }}_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secretName }}
      key: {{ $db.secretKey }}
{{- end }}
{{- end }}

{{/* ---------- Checks with readable messages ---------- */}}

{{- define "todo.validate" -}}
{{- if not .Values.postgresql.enabled }}
{{- if not .Values.externalDatabase.primary.host }}
{{- fail "externalDatabase.primary.host is required when postgresql.enabled is false (point it at your PostgreSQL primary, e.g. a managed service or an operator's -rw Service)" }}
{{- end }}
{{- end }}
{{- if and .Values.postgresql.enabled (lt (int .Values.postgresql.readReplicas.replicaCount) 1) }}
{{- fail "postgresql.readReplicas.replicaCount must be at least 1: the reader reads from the replicas" }}
{{- end }}
{{- end }}
