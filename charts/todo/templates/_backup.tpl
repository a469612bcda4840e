{{/*
Blocks of the backup CronJob's containers (backup.yaml).

  include "todo.backupEnv" $            where dumps go and how many are kept
  include "todo.backupVolumeMounts" $   /backups, /tmp, the password and the scripts
*/}}

{{- define "todo.backupEnv" -}}
- name: BACKUP_DIR
  value: /backups
- name: KEEP
  value: {{ .Values.backup.keep | quote }}
- name: BACKUP_PREFIX
  value: {{ .Values.postgresql.auth.database | quote }}
{{- end }}

{{- define "todo.backupVolumeMounts" -}}
- name: backups
  mountPath: /backups
- name: tmp
  mountPath: /tmp
- name: secrets
  mountPath: /etc/todo/secrets
  readOnly: true
- name: scripts
  mountPath: /opt/todo
  readOnly: true
{{- end }}
