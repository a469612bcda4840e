{{/*
Names, labels, images and pull secrets.

  include "todo.fullname" $                      resource name prefix (<= 33 characters)
  include "todo.labels" (dict "root" $ "component" "reader")
  include "todo.selectorLabels" (dict "root" $ "component" "reader")
  include "todo.serviceImage" (dict "root" $ "service" "reader")
  include "todo.image" (dict "root" $ "image" .Values.postgresql.image)   any other image
  include "todo.postgresqlImage" $
  include "todo.imagePullSecrets" $              the pod spec's imagePullSecrets, or nothing

Every resource is named <fullname>-<component>. The longest component suffix is
"-postgresql-primary-hl" (22 characters) and the longest StatefulSet suffix
"-postgresql-primary" (19): with a prefix of at most 33 characters every name stays
within 63 characters and every StatefulSet within 52, which leaves room for the
11 characters of the controller-revision-hash label of its pods. A longer prefix is cut
to 27 characters plus "-" and 5 characters of its hash, so two long release names that
share a beginning still get different names.

global.imageRegistry (set by an umbrella chart) replaces the registry of every image;
global.imagePullSecrets are added to every pod's pull secrets.
*/}}

{{- define "todo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo.fullname" -}}
{{- $full := "" }}
{{- if .Values.fullnameOverride }}
{{- $full = .Values.fullnameOverride }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- $full = ternary .Release.Name (printf "%s-%s" .Release.Name $name) (contains $name .Release.Name) }}
{{- end }}
{{- if gt (len $full) 33 }}
{{- printf "%s-%s" ($full | trunc 27 | trimSuffix "-") ($full | sha256sum | trunc 5) }}
{{- else }}
{{- $full | trimSuffix "-" }}
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

{{- define "todo.globalRegistry" -}}
{{- dig "global" "imageRegistry" "" (.Values | merge dict) }}
{{- end }}

{{- define "todo.serviceImage" -}}
{{- $values := index .root.Values .service }}
{{- $registry := include "todo.globalRegistry" .root | default .root.Values.image.registry }}
{{- $repository := $values.image.repository | default (printf "%s/%s/todo-%s" $registry .root.Values.image.namespace .service) }}
{{- $tag := $values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "todo.image" -}}
{{- $registry := include "todo.globalRegistry" .root | default .image.registry }}
{{- printf "%s/%s:%s" $registry .image.repository .image.tag }}
{{- end }}

{{- define "todo.postgresqlImage" -}}
{{- include "todo.image" (dict "root" . "image" .Values.postgresql.image) }}
{{- end }}

{{- define "todo.imagePullSecrets" -}}
{{- $names := list }}
{{- range (concat (dig "global" "imagePullSecrets" list (.Values | merge dict)) .Values.imagePullSecrets) }}
{{- $names = append $names (ternary . (dig "name" "" (kindIs "map" . | ternary . dict)) (kindIs "string" .)) }}
{{- end }}
{{- with ($names | compact | uniq) }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}
