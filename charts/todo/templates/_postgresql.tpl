{{/* Blocks shared by the PostgreSQL primary and replica StatefulSets. */}}

{{/* Server settings both run with; a standby needs max_connections >= the primary's. */}}
{{- define "todo.postgresqlArgs" -}}
- postgres
- -c
- hba_file=/etc/postgresql/pg_hba.conf
- -c
- listen_addresses=*
- -c
- port={{ .root.Values.postgresql.service.port }}
- -c
- wal_level=replica
- -c
- max_connections={{ .root.Values.postgresql.primary.maxConnections }}
- -c
- max_wal_senders={{ add 5 .root.Values.postgresql.readReplicas.replicaCount }}
- -c
- max_replication_slots={{ add 5 .root.Values.postgresql.readReplicas.replicaCount }}
- -c
- max_slot_wal_keep_size={{ .root.Values.postgresql.primary.maxSlotWalKeepSize }}
- -c
- hot_standby=on
- -c
- hot_standby_feedback=on
- -c
- password_encryption=scram-sha-256
{{- range $name, $value := .extraConfig }}
- -c
- {{ printf "%s=%v" $name $value | quote }}
{{- end }}
{{- end }}

{{- define "todo.postgresqlProbes" -}}
startupProbe:
  exec:
    command: ["pg_isready", "--quiet", "--host=127.0.0.1", "--port={{ .Values.postgresql.service.port }}"]
  periodSeconds: 5
  failureThreshold: 120
livenessProbe:
  exec:
    command: ["pg_isready", "--quiet", "--host=127.0.0.1", "--port={{ .Values.postgresql.service.port }}"]
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  exec:
    command: ["pg_isready", "--quiet", "--host=127.0.0.1", "--port={{ .Values.postgresql.service.port }}"]
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* Kubernetes sends SIGTERM (a "smart" shutdown that waits for every client): stop fast instead. */}}
{{- define "todo.postgresqlLifecycle" -}}
lifecycle:
  preStop:
    exec:
      command: ["pg_ctl", "stop", "--mode=fast", "--wait", "--timeout=50"]
{{- end }}

{{- define "todo.postgresqlEnv" -}}
- name: PGDATA
  value: /var/lib/postgresql/data/pgdata
- name: PGPORT
  value: {{ .Values.postgresql.service.port | quote }}
{{- end }}

{{- define "todo.postgresqlVolumeMounts" -}}
- name: data
  mountPath: /var/lib/postgresql/data
- name: run
  mountPath: /var/run/postgresql
- name: tmp
  mountPath: /tmp
- name: shm
  mountPath: /dev/shm
- name: secrets
  mountPath: /etc/todo/secrets
  readOnly: true
- name: config
  mountPath: /etc/postgresql
  readOnly: true
{{- end }}

{{/* Call with (dict "root" $ "secretKeys" (list "replication-password") "script" "replica-bootstrap.sh"). */}}
{{- define "todo.postgresqlVolumes" -}}
- name: run
  emptyDir: {}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
- name: shm
  emptyDir:
    medium: Memory
    sizeLimit: 256Mi
- name: secrets
  secret:
    secretName: {{ include "todo.postgresqlSecretName" .root }}
    defaultMode: 0440
    items:
      {{- range .secretKeys }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
- name: config
  configMap:
    name: {{ include "todo.fullname" .root }}-postgresql
    items:
      - key: pg_hba.conf
        path: pg_hba.conf
- name: scripts
  configMap:
    name: {{ include "todo.fullname" .root }}-postgresql
    defaultMode: 0555
    items:
      - key: {{ .script }}
        path: {{ .script }}
{{- end }}

{{/* Call with (dict "root" $ "component" "postgresql-primary" "persistence" .Values.postgresql.primary.persistence). */}}
{{- define "todo.postgresqlVolumeClaim" -}}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "todo.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
    spec:
      accessModes: ["ReadWriteOnce"]
      {{- with .persistence.storageClass }}
      storageClassName: {{ . | quote }}
      {{- end }}
      resources:
        requests:
          storage: {{ .persistence.size }}
{{- end }}
