{{/*
Environment variables of the three services (their settings modules read them).

  include "todo.commonEnv" (dict "root" $ "service" "reader")   PORT, LOG_LEVEL, gunicorn
  include "todo.frontendEnv" $   include "todo.readerEnv" $   include "todo.writerEnv" $
  include "todo.frontendSecrets" $ ...   the Secrets each mounts as files (projected sources)

Passwords and keys reach the services as files under /etc/todo/secrets, named by
<NAME>_FILE variables (todo_common.settings reads NAME_FILE when NAME is not set).

Defaults live in values.yaml (server.*, <service>.gunicorn.*); the services' own
defaults (todo_common.gunicorn_conf, todo_common.settings) are equal to them, and the
chart tests check that they stay so.
*/}}

{{- define "todo.commonEnv" -}}
{{- $values := index .root.Values .service }}
- name: PORT
  value: {{ .root.Values.server.port | quote }}
- name: LOG_LEVEL
  value: {{ .root.Values.logLevel | quote }}
- name: GUNICORN_WORKERS
  value: {{ $values.gunicorn.workers | quote }}
- name: GUNICORN_THREADS
  value: {{ $values.gunicorn.threads | quote }}
- name: GUNICORN_GRACEFUL_TIMEOUT
  value: {{ .root.Values.server.gracefulTimeoutSeconds | quote }}
{{- end }}

{{- /* The key the frontend signs its calls to reader and writer with, and they check
(todo_common.service_token): every service mounts it from the frontend's Secret. */}}
{{- define "todo.serviceTokenEnv" -}}
- name: SERVICE_TOKEN_KEY_FILE
  value: /etc/todo/secrets/service-token-key
{{- end }}

{{- define "todo.serviceTokenSecret" -}}
- secret:
    name: {{ include "todo.frontendSecretName" . }}
    items:
      - key: service-token-key
        path: service-token-key
{{- end }}

{{- define "todo.frontendEnv" -}}
{{ include "todo.serviceTokenEnv" . }}
- name: READER_URL
  value: "http://{{ include "todo.fullname" . }}-reader:{{ .Values.reader.service.port }}"
- name: WRITER_URL
  value: "http://{{ include "todo.fullname" . }}-writer:{{ .Values.writer.service.port }}"
- name: SECRET_KEY_FILE
  value: /etc/todo/secrets/secret-key
- name: SESSION_COOKIE_SECURE
  value: {{ .Values.frontend.sessionCookieSecure | quote }}
- name: UPSTREAM_TIMEOUT_SECONDS
  value: {{ .Values.frontend.upstreamTimeoutSeconds | quote }}
- name: PAGE_SIZE
  value: {{ .Values.frontend.pageSize | quote }}
{{- with .Values.frontend.publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- /* API links name only hosts of ours: the ingress's, the Service's (helm test, other pods). */}}
{{- $hosts := concat (list (printf "%s-frontend" (include "todo.fullname" .)) (printf "%s-frontend.%s.svc" (include "todo.fullname" .) .Release.Namespace)) .Values.frontend.allowedHosts }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $hosts = append $hosts .host }}
{{- end }}
{{- end }}
- name: ALLOWED_HOSTS
  value: {{ join "," $hosts | quote }}
{{- end }}

{{- define "todo.readerEnv" -}}
{{ include "todo.serviceTokenEnv" . }}
{{ include "todo.databaseEnv" (dict "root" . "role" "replica" "prefix" "DATABASE") | trim }}
{{- if .Values.reader.fallbackToPrimary }}
{{ include "todo.databaseEnv" (dict "root" . "role" "primary" "prefix" "FALLBACK_DATABASE") | trim }}
{{- end }}
{{ include "todo.sslRootCertEnv" . }}
- name: LSN_WAIT_TIMEOUT_MS
  value: {{ .Values.reader.lsnWaitTimeoutMs | quote }}
- name: MAX_PAGE_SIZE
  value: {{ .Values.reader.maxPageSize | quote }}
{{- end }}

{{- define "todo.writerEnv" -}}
{{ include "todo.serviceTokenEnv" . }}
{{ include "todo.databaseEnv" (dict "root" . "role" "primary" "prefix" "DATABASE") | trim }}
{{ include "todo.sslRootCertEnv" . }}
- name: MAX_BODY_BYTES
  value: {{ .Values.writer.maxBodyBytes | quote }}
- name: IDEMPOTENCY_KEY_TTL_HOURS
  value: {{ .Values.writer.idempotencyKeyTtlHours | quote }}
{{- end }}

{{- define "todo.frontendSecrets" -}}
- secret:
    name: {{ include "todo.frontendSecretName" . }}
    items:
      - key: secret-key
        path: secret-key
      - key: service-token-key
        path: service-token-key
{{- end }}

{{- define "todo.readerSecrets" -}}
{{ include "todo.serviceTokenSecret" . }}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "replica" "prefix" "DATABASE") }}
{{- if .Values.reader.fallbackToPrimary }}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "primary" "prefix" "FALLBACK_DATABASE") }}
{{- end }}
{{- end }}

{{- define "todo.writerSecrets" -}}
{{ include "todo.serviceTokenSecret" . }}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "primary" "prefix" "DATABASE") }}
{{- end }}
