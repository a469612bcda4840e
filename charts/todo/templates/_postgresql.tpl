{{/*
Blocks shared by the bundled PostgreSQL primary and replica StatefulSets.

  include "todo.postgresqlArgs" (dict "root" $ "extraConfig" ...)   the server's settings
  include "todo.postgresqlPodLabels" (dict "root" $ "component" ...) pod template labels
  include "todo.postgresqlEnv" $, "todo.replicationEnv" $            environment
  include "todo.postgresqlVolumeMounts" $, "todo.postgresqlVolumes" (dict "root" $ "secretKeys" (list ...))
  include "todo.postgresqlVolumeClaim" (dict "root" $ "component" ... "persistence" ...)
  include "todo.passwordSyncContainer" (dict "root" $ "role" "primary"|"replica" "env" ...)
  include "todo.postgresqlAntiAffinity" (dict "root" $ "avoid" "postgresql-read" "affinity" ...)
  include "todo.postgresqlConfigChecksum" $                          rolls the pods when a script changes

The pod templates carry nothing that changes with the chart or app version, the replica
count or a generated password: a database pod restarts only when its own settings,
scripts or image change.
*/}}

{{/*
Settings both run with. A standby refuses to start when max_connections,
max_wal_senders or max_replication_slots are lower than on its primary, so these are
fixed values, equal on both, never derived from the replica count.
*/}}
{{- define "todo.postgresqlArgs" -}}
{{- $pg := .root.Values.postgresql }}
- postgres
- -c
- hba_file=/etc/postgresql/pg_hba.conf
- -c
- listen_addresses=*
- -c
- port={{ $pg.service.port }}
- -c
- wal_level=replica
- -c
- max_connections={{ $pg.primary.maxConnections }}
- -c
- max_wal_senders={{ $pg.maxWalSenders }}
- -c
- max_replication_slots={{ $pg.maxReplicationSlots }}
- -c
- max_slot_wal_keep_size={{ $pg.primary.maxSlotWalKeepSize }}
- -c
- idle_replication_slot_timeout={{ $pg.idleReplicationSlotTimeout }}
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

{{- define "todo.postgresqlPodLabels" -}}
{{ include "todo.selectorLabels" . }}
app.kubernetes.io/part-of: todo
{{- end }}

{{- define "todo.postgresqlConfigChecksum" -}}
checksum/config: {{ include "todo.postgresqlConfigData" . | sha256sum }}
{{- end }}

{{/* The ConfigMap's data: pg_hba.conf and the scripts the pods and the slot Job run. */}}
{{- define "todo.postgresqlConfigData" -}}
# Local socket: only processes inside the pod (init scripts, probes, the password sync).
# Everyone else logs in with a SCRAM password; replication only as the replication role.
pg_hba.conf: |
  local all all trust
  host replication {{ .Values.postgresql.auth.replicationUsername }} all scram-sha-256
  host all all all scram-sha-256
{{- range list "primary-init.sh" "password-sync.sh" "replica-lib.sh" "replica-start.sh" "replica-check.sh" "drop-stale-slots.sh" }}
{{ . }}: |
  {{- $.Files.Get (printf "files/%s" .) | nindent 2 }}
{{- end }}
{{- end }}

{{- define "todo.postgresqlProbe" -}}
exec:
  command: ["pg_isready", "--quiet", "--host=127.0.0.1", "--port={{ .Values.postgresql.service.port }}"]
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
- name: PGHOST
  value: /var/run/postgresql
{{- end }}

{{/* How a replica (and the slot Job) reaches the primary as the replication role. */}}
{{- define "todo.replicationEnv" -}}
- name: PRIMARY_HOST
  value: {{ include "todo.postgresqlPrimaryService" . }}
- name: PRIMARY_PORT
  value: {{ .Values.postgresql.service.port | quote }}
- name: REPLICATION_USER
  value: {{ .Values.postgresql.auth.replicationUsername | quote }}
- name: REPLICATION_PASSWORD_FILE
  value: /etc/todo/secrets/replication-password
- name: PGPASSFILE
  value: /var/run/postgresql/.pgpass
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
- name: scripts
  mountPath: /opt/todo
  readOnly: true
{{- end }}

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
{{- end }}

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

{{/* Applies a changed Secret while PostgreSQL runs (files/password-sync.sh). */}}
{{- define "todo.passwordSyncContainer" -}}
{{- $pg := .root.Values.postgresql }}
- name: password-sync
  image: {{ include "todo.postgresqlImage" .root }}
  imagePullPolicy: {{ $pg.image.pullPolicy }}
  command: ["bash", "/opt/todo/password-sync.sh"]
  env:
    {{- include "todo.postgresqlEnv" .root | nindent 4 }}
    - name: ROLE
      value: {{ .role }}
    - name: INTERVAL
      value: {{ $pg.passwordSync.intervalSeconds | quote }}
    {{- .env | trim | nindent 4 }}
  resources:
    {{- toYaml $pg.passwordSync.resources | nindent 4 }}
  securityContext:
    {{- include "todo.containerSecurityContext" .root | nindent 4 }}
  volumeMounts:
    - name: run
      mountPath: /var/run/postgresql
    - name: tmp
      mountPath: /tmp
    - name: secrets
      mountPath: /etc/todo/secrets
      readOnly: true
    - name: scripts
      mountPath: /opt/todo
      readOnly: true
{{- end }}

{{/*
The user's affinity, or by default: keep the primary and the replicas on different
nodes where the cluster has them (preferred, so a one-node cluster still schedules).
*/}}
{{- define "todo.postgresqlAntiAffinity" -}}
{{- if .affinity }}
affinity:
  {{- toYaml .affinity | nindent 2 }}
{{- else }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "todo.selectorLabels" (dict "root" .root "component" .avoid) | nindent 14 }}
{{- end }}
{{- end }}

{{/* The roles primary-init.sh creates and whose passwords password-sync.sh keeps current. */}}
{{- define "todo.primaryRolesEnv" -}}
- name: POSTGRES_PASSWORD_FILE
  value: /etc/todo/secrets/postgres-password
- name: APP_DATABASE
  value: {{ .Values.postgresql.auth.database | quote }}
- name: APP_USER
  value: {{ .Values.postgresql.auth.username | quote }}
- name: APP_PASSWORD_FILE
  value: /etc/todo/secrets/password
- name: REPLICATION_USER
  value: {{ .Values.postgresql.auth.replicationUsername | quote }}
- name: REPLICATION_PASSWORD_FILE
  value: /etc/todo/secrets/replication-password
{{- end }}
