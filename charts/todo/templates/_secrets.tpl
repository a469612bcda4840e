{{/*
Names of the Secrets the pods read, and generated values that survive upgrades.

  include "todo.postgresqlSecretName" $          bundled PostgreSQL's passwords (or existingSecret)
  include "todo.frontendSecretName" $            the session-signing key and the service-token
                                                 key(s) (or frontend.existingSecret)
  include "todo.externalDatabaseSecretName" $    passwords of an external database given as values
  include "todo.generatedValue" (dict "existing" (lookup "v1" "Secret" ns name) "key" "password")

`lookup` returns nothing under `helm template`, --dry-run, Argo CD and Flux, so there a
generated value changes on every render: GitOps users set existingSecret instead.
*/}}

{{- define "todo.postgresqlSecretName" -}}
{{- .Values.postgresql.auth.existingSecret | default (printf "%s-postgresql" (include "todo.fullname" .)) }}
{{- end }}

{{- define "todo.frontendSecretName" -}}
{{- .Values.frontend.existingSecret | default (printf "%s-frontend" (include "todo.fullname" .)) }}
{{- end }}

{{- define "todo.externalDatabaseSecretName" -}}
{{- printf "%s-external-database" (include "todo.fullname" .) }}
{{- end }}

{{- define "todo.generatedValue" -}}
{{- $data := dig "data" (dict) (.existing | default dict) }}
{{- if hasKey $data .key }}
{{- index $data .key }}
{{- else }}
{{- randAlphaNum 32 | b64enc }}
{{- end }}
{{- end }}
