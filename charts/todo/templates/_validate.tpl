{{/*
Checks that values.schema.json cannot express, with messages that say what to set.

  include "todo.validate" .     renders nothing, or fails the install
*/}}

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
