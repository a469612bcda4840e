{{/*
Monitoring: what the services' and PostgreSQL's pods need for it.

  include "todo.monitoringOn" (dict "root" $ "part" "serviceMonitor")   "true" when monitoring.enabled and that part is
  include "todo.metricsPort" $              the container port "metrics" of a Python service
  include "todo.postgresExporterContainer" $   the postgres_exporter sidecar, when monitoring.postgresExporter.enabled
  include "todo.scrapeRelabelings" $        component and ready labels on every scraped series

The metrics themselves are served by each service's gunicorn master on METRICS_PORT
(todo_common.gunicorn_conf); the rules and the dashboard are files/monitoring/*.
*/}}

{{- define "todo.monitoringOn" -}}
{{- $monitoring := .root.Values.monitoring }}
{{- if and $monitoring.enabled (index $monitoring .part).enabled }}true{{ end }}
{{- end }}

{{- define "todo.metricsPort" -}}
- name: metrics
  containerPort: {{ .Values.monitoring.port }}
  protocol: TCP
{{- end }}

{{/*
Series get `component` (frontend, reader, writer, postgresql-primary, ...) from the
pod's label, and `ready` from the endpoint's readiness: the alert TodoNoReadyPods
counts ready targets (an unready pod is still scraped).
*/}}
{{- define "todo.scrapeRelabelings" -}}
- sourceLabels: [__meta_kubernetes_pod_label_app_kubernetes_io_component]
  targetLabel: component
- sourceLabels: [__meta_kubernetes_endpoint_ready, __meta_kubernetes_endpointslice_endpoint_conditions_ready]
  separator: ""
  targetLabel: ready
{{- end }}

{{/*
prometheus-community's postgres_exporter beside PostgreSQL: it connects through the
pod's socket directory (pg_hba.conf trusts the local socket, as for the probes), so it
needs no password and opens no network path to the server.
*/}}
{{- define "todo.postgresExporterContainer" -}}
{{- $exporter := .Values.monitoring.postgresExporter }}
{{- if $exporter.enabled }}
- name: postgres-exporter
  image: {{ include "todo.image" (dict "root" . "image" $exporter.image) }}
  imagePullPolicy: {{ $exporter.image.pullPolicy }}
  env:
    - name: DATA_SOURCE_NAME
      value: "postgresql://postgres@localhost:{{ .Values.postgresql.service.port }}/postgres?host=/var/run/postgresql&sslmode=disable"
  ports:
    - name: pg-metrics
      containerPort: {{ $exporter.port }}
      protocol: TCP
  args:
    - --web.listen-address=:{{ $exporter.port }}
  livenessProbe:
    httpGet:
      path: /
      port: pg-metrics
    periodSeconds: 30
    timeoutSeconds: 5
  resources:
    {{- toYaml $exporter.resources | nindent 4 }}
  securityContext:
    {{- include "todo.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: run
      mountPath: /var/run/postgresql
{{- end }}
{{- end }}
