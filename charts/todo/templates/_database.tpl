{{/*
Where the services find PostgreSQL: the bundled primary/replicas or an external one.

  include "todo.postgresqlPrimaryService" $     the bundled read-write Service
  include "todo.postgresqlReadService" $        the bundled read-only Service
  include "todo.databaseEndpoint" (dict "root" $ "role" "primary"|"replica") | fromYaml
      -> host, port, database, user, sslmode, secretName, secretKey
  include "todo.databaseEnv" (dict "root" $ "role" "primary" "prefix" "DATABASE")
      -> <prefix>_HOST, _PORT, _NAME, _USER, _SSLMODE and _PASSWORD (from the Secret)
*/}}

{{- define "todo.postgresqlPrimaryService" -}}
{{- printf "%s-postgresql-rw" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.postgresqlReadService" -}}
{{- printf "%s-postgresql-ro" (include "todo.fullname" .) }}
{{- end }}

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
