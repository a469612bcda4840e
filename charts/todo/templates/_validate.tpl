{{/*
Checks that values.schema.json cannot express, with messages that say what to set.

  include "todo.validate" .     renders nothing, or fails the install
  include "todo.validateSecretKeys" (dict "secret" (lookup ...) "value" "frontend.existingSecret" "keys" (list ...))
  include "todo.mebibytes" "2GB"   a size (PostgreSQL's kB/MB/GB/TB or Kubernetes'
                                   Ki/Mi/Gi/Ti/K/M/G/T) in MiB, as a float
*/}}

{{- define "todo.mebibytes" -}}
{{- $text := . | toString | trim }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $text }}
{{- $unit := trimPrefix $number $text }}
{{- $factors := dict "kB" 0.0009765625 "MB" 1.0 "GB" 1024.0 "TB" 1048576.0 "Ki" 0.0009765625 "Mi" 1.0 "Gi" 1024.0 "Ti" 1048576.0 "K" 0.00095367431640625 "M" 0.95367431640625 "G" 953.67431640625 "T" 976562.5 "" 0.00000095367431640625 }}
{{- if not (hasKey $factors $unit) }}
{{- fail (printf "cannot read the size %q" $text) }}
{{- end }}
{{- mulf (float64 $number) (get $factors $unit) }}
{{- end }}

{{/* max_slot_wal_keep_size must leave room for the data: at most half the volume. */}}
{{- define "todo.validateWalAllowance" -}}
{{- $wal := include "todo.mebibytes" .wal | float64 }}
{{- $volume := include "todo.mebibytes" .volume | float64 }}
{{- if gt $wal (divf $volume 2) }}
{{- fail (printf "%s (%s) must be at most half of %s (%s): a replica that is away may make the primary keep that much WAL, and the volume must still hold the data" .walKey .wal .volumeKey .volume) }}
{{- end }}
{{- end }}

{{/*
A Secret of the user's that lacks a key the pods mount would leave them waiting for the
volume forever: say so before anything changes. `lookup` finds nothing under `helm
template`, Argo CD and Flux, so there is nothing to check there.
*/}}
{{- define "todo.validateSecretKeys" -}}
{{- with .secret }}
{{- $data := .data | default dict }}
{{- range $.keys }}
{{- if not (hasKey $data .) }}
{{- fail (printf "%s: the Secret %s has no key %q; add it (at least 32 random characters) before installing or upgrading, as the chart README says (Secrets)" $.value $.secret.metadata.name .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo.validate" -}}
{{- $pg := .Values.postgresql }}
{{- $cnpg := .Values.cloudnativepg }}
{{- $backup := .Values.backup }}
{{- if and $pg.enabled $cnpg.enabled }}
{{- fail "postgresql.enabled and cloudnativepg.enabled are both true: choose one (set postgresql.enabled=false to use the CloudNativePG Cluster)" }}
{{- end }}
{{- if not (or $pg.enabled $cnpg.enabled .Values.externalDatabase.primary.host) }}
{{- fail "externalDatabase.primary.host is required when postgresql.enabled is false (point it at your PostgreSQL primary, e.g. a managed service or an operator's -rw Service), or set cloudnativepg.enabled" }}
{{- end }}
{{- if $pg.enabled }}
{{- if lt (int $pg.readReplicas.replicaCount) 1 }}
{{- fail "postgresql.readReplicas.replicaCount must be at least 1: the reader reads from the replicas" }}
{{- end }}
{{- if gt (add $pg.readReplicas.replicaCount 2 | int) (int $pg.maxWalSenders) }}
{{- fail (printf "postgresql.maxWalSenders (%v) must be at least readReplicas.replicaCount + 2 (%v): one sender per replica, two for a replica that clones" $pg.maxWalSenders (add $pg.readReplicas.replicaCount 2)) }}
{{- end }}
{{- if gt (int $pg.readReplicas.replicaCount) (int $pg.maxReplicationSlots) }}
{{- fail (printf "postgresql.maxReplicationSlots (%v) must be at least readReplicas.replicaCount (%v): each replica streams through its own slot" $pg.maxReplicationSlots $pg.readReplicas.replicaCount) }}
{{- end }}
{{- include "todo.validateWalAllowance" (dict "wal" $pg.primary.maxSlotWalKeepSize "walKey" "postgresql.primary.maxSlotWalKeepSize" "volume" $pg.primary.persistence.size "volumeKey" "postgresql.primary.persistence.size") }}
{{- end }}
{{- with .Values.frontend.existingSecret }}
{{- $keys := list "secret-key" "service-token-key" }}
{{- if $.Values.serviceToken.acceptPreviousKey }}
{{- $keys = append $keys "service-token-previous-key" }}
{{- end }}
{{- include "todo.validateSecretKeys" (dict "secret" (lookup "v1" "Secret" $.Release.Namespace .) "value" "frontend.existingSecret" "keys" $keys) }}
{{- end }}
{{- if $cnpg.enabled }}
{{- include "todo.validateWalAllowance" (dict "wal" $cnpg.maxSlotWalKeepSize "walKey" "cloudnativepg.maxSlotWalKeepSize" "volume" $cnpg.storage.size "volumeKey" "cloudnativepg.storage.size") }}
{{- end }}
{{- if $backup.enabled }}
{{- if not (or $pg.enabled $cnpg.enabled) }}
{{- fail "backup.enabled needs the bundled PostgreSQL or cloudnativepg.enabled: back up an external database where it runs" }}
{{- end }}
{{- if or $cnpg.enabled (eq $backup.destination "s3") }}
{{- if not (and $backup.s3.url $backup.s3.existingSecret) }}
{{- fail "backups to a bucket (backup.destination=s3, or cloudnativepg.enabled) need backup.s3.url (s3://bucket/path) and backup.s3.existingSecret (its access keys)" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
