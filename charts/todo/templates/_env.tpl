{{/*
Environment variables of the three services (their settings modules read them).

  include "todo.commonEnv" (dict "root" $ "service" "reader")   PORT, LOG_LEVEL, gunicorn
  include "todo.frontendEnv" $   include "todo.readerEnv" $   include "todo.writerEnv" $
  include "todo.frontendSecrets" $ ...   the Secrets each mounts as files (projected sources)
  include "todo.serviceTokenEnv" (dict "root" $ "accept" true)   the key that signs (frontend) or
      checks (reader, writer: "accept" adds the previous key while rotating) calls between them
  include "todo.publicUrl" $      PUBLIC_URL: frontend.publicUrl, else the ingress's first host
  include "todo.ingressScheme" (dict "root" $ "host" "todo.example.com")   https when TLS covers it

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

{{- define "todo.frontendEnv" -}}
- name: READER_URL
  value: "http://{{ include "todo.fullname" . }}-reader:{{ .Values.reader.service.port }}"
- name: WRITER_URL
  value: "http://{{ include "todo.fullname" . }}-writer:{{ .Values.writer.service.port }}"
- name: SECRET_KEY_FILE
  value: /etc/todo/secrets/secret-key
{{ include "todo.serviceTokenEnv" (dict "root" . "accept" false) }}
{{- $publicUrl := include "todo.publicUrl" . }}
{{- with $publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- /* The frontend's own default (Secure when PUBLIC_URL is https), unless set. */}}
- name: SESSION_COOKIE_SECURE
  value: {{ ternary .Values.frontend.sessionCookieSecure (hasPrefix "https://" $publicUrl) (kindIs "bool" .Values.frontend.sessionCookieSecure) | quote }}
- name: TRUSTED_PROXIES
  value: {{ include "todo.trustedProxies" . | quote }}
{{- /* Without a public URL, API links name only hosts of ours: the Service's (helm test,
other pods), the ingress's, and frontend.allowedHosts (e.g. a LoadBalancer's address). */}}
{{- $hosts := concat (list (printf "%s-frontend" (include "todo.fullname" .)) (printf "%s-frontend.%s.svc" (include "todo.fullname" .) .Release.Namespace)) .Values.frontend.allowedHosts }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $hosts = append $hosts .host }}
{{- end }}
{{- end }}
- name: ALLOWED_HOSTS
  value: {{ join "," $hosts | quote }}
- name: UPSTREAM_TIMEOUT_SECONDS
  value: {{ .Values.frontend.upstreamTimeoutSeconds | quote }}
- name: PAGE_SIZE
  value: {{ .Values.frontend.pageSize | quote }}
{{- end }}

{{- define "todo.readerEnv" -}}
{{ include "todo.databaseEnv" (dict "root" . "role" "replica" "prefix" "DATABASE") | trim }}
{{- if .Values.reader.fallbackToPrimary }}
{{ include "todo.databaseEnv" (dict "root" . "role" "primary" "prefix" "FALLBACK_DATABASE") | trim }}
{{- end }}
{{ include "todo.sslRootCertEnv" . }}
- name: LSN_WAIT_TIMEOUT_MS
  value: {{ .Values.reader.lsnWaitTimeoutMs | quote }}
- name: MAX_PAGE_SIZE
  value: {{ .Values.reader.maxPageSize | quote }}
{{ include "todo.serviceTokenEnv" (dict "root" . "accept" true) }}
{{- end }}

{{- define "todo.writerEnv" -}}
{{ include "todo.databaseEnv" (dict "root" . "role" "primary" "prefix" "DATABASE") | trim }}
{{ include "todo.sslRootCertEnv" . }}
- name: MAX_BODY_BYTES
  value: {{ .Values.writer.maxBodyBytes | quote }}
- name: IDEMPOTENCY_KEY_TTL_HOURS
  value: {{ .Values.writer.idempotencyKeyTtlHours | quote }}
{{ include "todo.serviceTokenEnv" (dict "root" . "accept" true) }}
{{- $limits := .Values.accounts.limits }}
- name: MAX_ITEMS_PER_LIST
  value: {{ $limits.maxItemsPerList | quote }}
- name: MAX_LISTS_PER_ACCOUNT
  value: {{ $limits.maxListsPerAccount | quote }}
- name: MAX_API_TOKENS_PER_ACCOUNT
  value: {{ $limits.maxApiTokensPerAccount | quote }}
- name: SIGNUPS_PER_ADDRESS_PER_HOUR
  value: {{ $limits.signupsPerAddressPerHour | quote }}
- name: LOGIN_FAILURES_PER_ACCOUNT
  value: {{ $limits.loginFailuresPerAccount | quote }}
- name: LOGIN_FAILURES_PER_ADDRESS
  value: {{ $limits.loginFailuresPerAddress | quote }}
- name: LOGIN_THROTTLE_WINDOW_SECONDS
  value: {{ $limits.loginThrottleWindowSeconds | quote }}
{{- end }}

{{- define "todo.serviceTokenEnv" -}}
- name: SERVICE_TOKEN_KEY_FILE
  value: /etc/todo/secrets/service-token-key
{{- if and .accept .root.Values.serviceToken.acceptPreviousKey }}
- name: SERVICE_TOKEN_PREVIOUS_KEY_FILE
  value: /etc/todo/secrets/service-token-previous-key
{{- end }}
{{- end }}

{{/*
Where people reach the site: frontend.publicUrl, else with the chart's ingress its first
host (https when an ingress.tls entry covers it), else nothing (links follow the request).
*/}}
{{- define "todo.publicUrl" -}}
{{- $host := "" }}
{{- if .Values.ingress.enabled }}
{{- $host = (first .Values.ingress.hosts | default dict).host | default "" }}
{{- end }}
{{- if .Values.frontend.publicUrl }}
{{- .Values.frontend.publicUrl | trimSuffix "/" }}
{{- else if $host }}
{{- printf "%s://%s" (include "todo.ingressScheme" (dict "root" . "host" $host)) $host }}
{{- end }}
{{- end }}

{{/* "https" when an ingress.tls entry covers the host (or names no hosts), else "http". */}}
{{- define "todo.ingressScheme" -}}
{{- $scheme := "http" }}
{{- range .root.Values.ingress.tls }}
{{- if or (not .hosts) (has $.host .hosts) }}
{{- $scheme = "https" }}
{{- end }}
{{- end }}
{{- $scheme }}
{{- end }}

{{/* Proxies in front of the frontend whose X-Forwarded-* count: set, else 1 behind the chart's ingress. */}}
{{- define "todo.trustedProxies" -}}
{{- if kindIs "invalid" .Values.frontend.trustedProxies }}
{{- ternary 1 0 .Values.ingress.enabled }}
{{- else }}
{{- .Values.frontend.trustedProxies }}
{{- end }}
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

{{/* Reader and writer see only the service-token key(s) of the frontend's Secret. */}}
{{- define "todo.serviceTokenSecretSource" -}}
- secret:
    name: {{ include "todo.frontendSecretName" . }}
    items:
      - key: service-token-key
        path: service-token-key
      {{- if .Values.serviceToken.acceptPreviousKey }}
      - key: service-token-previous-key
        path: service-token-previous-key
      {{- end }}
{{- end }}

{{- define "todo.readerSecrets" -}}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "replica" "prefix" "DATABASE") }}
{{- if .Values.reader.fallbackToPrimary }}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "primary" "prefix" "FALLBACK_DATABASE") }}
{{- end }}
{{ include "todo.serviceTokenSecretSource" . }}
{{- end }}

{{- define "todo.writerSecrets" -}}
{{ include "todo.databaseSecretSource" (dict "root" . "role" "primary" "prefix" "DATABASE") }}
{{ include "todo.serviceTokenSecretSource" . }}
{{- end }}
