{{/*
Security contexts and the writable scratch space a read-only root needs.

  securityContext: include "todo.podSecurityContext" .            the Python services (UID 10001)
  securityContext: include "todo.postgresqlPodSecurityContext" .  the postgres image (UID 999)
  securityContext: include "todo.containerSecurityContext" .      every container
  volumeMounts: include "todo.tmpVolumeMount" .  /  volumes: include "todo.tmpVolume" .
  volumeMounts: include "todo.secretsVolumeMount" (dict "sources" (include "todo.writerSecrets" $))
  volumes: include "todo.secretsVolume" (dict "sources" (include "todo.writerSecrets" $))
      passwords and keys as read-only files under /etc/todo/secrets (0440, the pod's group)
*/}}

{{- define "todo.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "todo.postgresqlPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
fsGroup: 999
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "todo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "todo.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "todo.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* Both render nothing when there is no Secret to mount (an external database without a password). */}}
{{- define "todo.secretsVolumeMount" -}}
{{- if trim .sources }}
- name: secrets
  mountPath: /etc/todo/secrets
  readOnly: true
{{- end }}
{{- end }}

{{- define "todo.secretsVolume" -}}
{{- if trim .sources }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- .sources | trim | nindent 6 }}
{{- end }}
{{- end }}
