{{/*
Where the services find PostgreSQL: the bundled primary/replicas, a CloudNativePG
Cluster, or an external one.

  include "todo.postgresqlPrimaryService" $     the bundled read-write Service
  include "todo.postgresqlReadService" $        the bundled read-only Service
  include "todo.cnpgClusterName" $              the CloudNativePG Cluster (<fullname>-db)
  include "todo.databaseEndpoint" (dict "root" $ "role" "primary"|"replica") | fromYaml
      -> host, port, database, user, sslmode, secretName, secretKey
  include "todo.databaseEnv" (dict "root" $ "role" "primary" "prefix" "DATABASE")
      -> <prefix>_HOST, _PORT, _NAME, _USER, _SSLMODE and _PASSWORD_FILE, a file of the
         "secrets" volume that todo.databaseSecretSource adds (passwords never in env)
  include "todo.databaseSecretSource" (dict "root" $ "role" "primary" "prefix" "DATABASE")
      -> a projected-volume source: the password's key of its Secret as <prefix>-password
  include "todo.sslRootCertEnv" $               PGSSLROOTCERT, when databaseSslRootCert is set
*/}}

{{- define "todo.postgresqlPrimaryService" -}}
{{- printf "%s-postgresql-rw" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.postgresqlReadService" -}}
{{- printf "%s-postgresql-ro" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.cnpgClusterName" -}}
{{- printf "%s-db" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.databaseEndpoint" -}}
{{- $root := .root }}
{{- $cnpg := $root.Values.cloudnativepg }}
{{- if $cnpg.enabled }}
{{- $cluster := include "todo.cnpgClusterName" $root }}
host: {{ printf "%s-%s" $cluster (ternary "ro" "rw" (and (eq .role "replica") (gt (int $cnpg.instances) 1))) }}
port: 5432
database: {{ $cnpg.database }}
user: {{ $cnpg.owner }}
sslmode: {{ $cnpg.sslmode }}
secretName: {{ $cluster }}-app
secretKey: password
{{- else if $root.Values.postgresql.enabled }}
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
- name: {{ .prefix }}_PASSWORD_FILE
  value: /etc/todo/secrets/{{ include "todo.passwordFileName" .prefix }}
{{- end }}
{{- end }}

{{- define "todo.passwordFileName" -}}
{{- printf "%s-password" (. | lower | replace "_" "-") }}
{{- end }}

{{- define "todo.databaseSecretSource" -}}
{{- $db := include "todo.databaseEndpoint" . | fromYaml }}
{{- if $db.secretName }}
- secret:
    name: {{ $db.secretName }}
    items:
      - key: {{ $db.secretKey }}
        path: {{ include "todo.passwordFileName" .prefix }}
{{- end }}
{{- end }}

{{- define "todo.sslRootCertEnv" -}}
{{- with .Values.databaseSslRootCert }}
- name: PGSSLROOTCERT
  value: {{ . | quote }}
{{- end }}
{{- end }}
