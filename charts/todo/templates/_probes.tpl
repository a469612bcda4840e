{{/*
Probes and graceful stop of the Python services.

  include "todo.httpProbes" .   startup/liveness on /healthz (no dependency), readiness on /readyz
  include "todo.lifecycle" .    preStop pause: the pod leaves the Service endpoints, then
                                gunicorn gets SIGTERM and finishes in-flight requests within
                                server.gracefulTimeoutSeconds
  include "todo.terminationGracePeriod" .   pause + graceful timeout + 5 s of slack
*/}}

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

{{- define "todo.lifecycle" -}}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "{{ .root.Values.server.preStopSleepSeconds }}"]
{{- end }}

{{- define "todo.terminationGracePeriod" -}}
{{- add .root.Values.server.preStopSleepSeconds .root.Values.server.gracefulTimeoutSeconds 5 }}
{{- end }}
