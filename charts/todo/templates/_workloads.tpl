{{/*
The three Python services' workloads and what surrounds them, each called with
(dict "root" $ "component" "reader"):

  include "todo.deployment" (merge (dict "env" (include "todo.readerEnv" $)) $ctx)
  include "todo.serviceAccount" $ctx       include "todo.clusterService" $ctx
  include "todo.podDisruptionBudget" $ctx  include "todo.autoscaler" $ctx
  include "todo.frontendOnlyPolicy" $ctx   only the frontend may connect (metrics: monitoring.yaml)
  include "todo.rollingUpdate" $ctx        include "todo.topologySpread" $ctx
*/}}

{{- define "todo.podDisruptionBudget" -}}
{{- $values := index .root.Values .component }}
{{- if $values.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "todo.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "todo.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "todo.autoscaler" -}}
{{- $values := index .root.Values .component }}
{{- if $values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "todo.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "todo.fullname" .root }}-{{ .component }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/* Only the frontend may call reader and writer (scrapers reach the metrics port: monitoring.yaml). */}}
{{- define "todo.frontendOnlyPolicy" -}}
{{- if .root.Values.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "todo.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "todo.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              {{- include "todo.selectorLabels" (dict "root" .root "component" "frontend") | nindent 14 }}
      ports:
        - port: http
          protocol: TCP
{{- end }}
{{- end }}

{{/* A ServiceAccount without an API token: none of the services calls the Kubernetes API. */}}
{{- define "todo.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "todo.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end }}

{{/*
The Deployment of a Python service: call with
(dict "root" $ "component" "reader" "env" (include "todo.readerEnv" $)).
*/}}
{{- define "todo.deployment" -}}
{{- $root := .root }}
{{- $values := index $root.Values .component }}
{{- $ctx := dict "root" $root "component" .component }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "todo.fullname" $root }}-{{ .component }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "todo.labels" $ctx | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- include "todo.rollingUpdate" . | nindent 2 }}
  selector:
    matchLabels:
      {{- include "todo.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "todo.labels" $ctx | nindent 8 }}
      annotations:
        # A Secret the chart renders (a password given as a value, a rotated one) rolls the pods.
        checksum/secrets: {{ include (print $root.Template.BasePath "/secrets.yaml") $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "todo.fullname" $root }}-{{ .component }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "todo.terminationGracePeriod" . }}
      securityContext:
        {{- include "todo.podSecurityContext" . | nindent 8 }}
      {{- include "todo.imagePullSecrets" $root | nindent 6 }}
      {{- include "todo.topologySpread" $ctx | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "todo.serviceImage" (dict "root" $root "service" .component) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $root.Values.server.port }}
              protocol: TCP
            {{- include "todo.metricsPort" $root | nindent 12 }}
          env:
            {{- include "todo.commonEnv" (dict "root" $root "service" .component) | trim | nindent 12 }}
            - name: METRICS_PORT
              value: {{ $root.Values.monitoring.port | quote }}
            {{- .env | trim | nindent 12 }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "todo.httpProbes" . | nindent 10 }}
          {{- include "todo.lifecycle" . | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "todo.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "todo.tmpVolumeMount" . | nindent 12 }}
            {{- include "todo.secretsVolumeMount" (dict "sources" .secrets) | nindent 12 }}
            {{- with $root.Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "todo.tmpVolume" . | nindent 8 }}
        {{- include "todo.secretsVolume" (dict "sources" .secrets) | nindent 8 }}
        {{- with $root.Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* The in-cluster Service of reader or writer. */}}
{{- define "todo.clusterService" }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "todo.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "todo.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ (index .root.Values .component).service.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{/* Rolling update that never drops below the desired count. */}}
{{- define "todo.rollingUpdate" -}}
strategy:
  type: RollingUpdate
  rollingUpdate:
    maxUnavailable: 0
    maxSurge: 1
{{- end }}

{{- define "todo.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "todo.selectorLabels" . | nindent 8 }}
{{- end }}
