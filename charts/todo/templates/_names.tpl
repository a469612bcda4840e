{{/*
Names, labels and images.

  include "todo.fullname" $                      resource name prefix (<= 40 characters)
  include "todo.labels" (dict "root" $ "component" "reader")
  include "todo.selectorLabels" (dict "root" $ "component" "reader")
  include "todo.serviceImage" (dict "root" $ "service" "reader")
  include "todo.postgresqlImage" $

Every resource is named <fullname>-<component>.
*/}}

{{- define "todo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

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

{{- define "todo.labels" -}}
helm.sh/chart: {{ include "todo.chart" .root }}
{{ include "todo.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: todo
{{- end }}

{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

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
