{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "crl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; each component appends -coordinator, -trainer, ... */}}
{{- define "crl.fullname" -}}
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

{{- define "crl.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: pass (dict "root" $ "component" "trainer"). */}}
{{- define "crl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crl.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
All labels of one component. part-of is what deploy/prometheus/prometheus.yml's Kubernetes job
selects pods by.
*/}}
{{- define "crl.labels" -}}
helm.sh/chart: {{ include "crl.chart" .root }}
{{ include "crl.selectorLabels" . }}
app.kubernetes.io/part-of: crl-cluster
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "crl.image" -}}
{{- printf "%s:%s" .repository (default .appVersion .tag) }}
{{- end }}

{{- define "crl.serviceImage" -}}
{{- include "crl.image" (dict "repository" .Values.image.repository "tag" .Values.image.tag "appVersion" .Chart.AppVersion) }}
{{- end }}

{{- define "crl.trainerImage" -}}
{{- include "crl.image" (dict "repository" .Values.trainer.image.repository "tag" .Values.trainer.image.tag "appVersion" .Chart.AppVersion) }}
{{- end }}

{{- define "crl.serviceAccountName" -}}
{{- if .Values.coordinator.serviceAccount.create }}
{{- default (printf "%s-coordinator" (include "crl.fullname" .)) .Values.coordinator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.coordinator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "crl.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s-nats:%d" (include "crl.fullname" .) (int .Values.nats.port) }}
{{- else }}
{{- required "nats.externalUrl is required when nats.enabled is false" .Values.nats.externalUrl }}
{{- end }}
{{- end }}

{{- define "crl.coordinatorAddress" -}}
{{- printf "%s-coordinator:%d" (include "crl.fullname" .) (int .Values.coordinator.port) }}
{{- end }}

{{- define "crl.evaluatorAddress" -}}
{{- printf "%s-evaluator:%d" (include "crl.fullname" .) (int .Values.evaluator.port) }}
{{- end }}

{{/* The three gRPC probes of a container: pass (dict "root" $ "port" 7070 "service" "crl.v1.X"). */}}
{{- define "crl.grpcProbes" -}}
{{- $p := .root.Values.probes -}}
startupProbe:
  grpc:
    port: {{ .port }}
    service: {{ .service }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
readinessProbe:
  grpc:
    port: {{ .port }}
    service: {{ .service }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
livenessProbe:
  grpc:
    port: {{ .port }}
    service: {{ .service }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
{{- end }}

{{/*
Pod scheduling fields of a component's values: nodeSelector, tolerations, affinity,
priorityClassName.
*/}}
{{- define "crl.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
Environment every crl container gets: the ConfigMap (addresses and settings, referenced in args as
$(VAR)) and the pod's own name and IP.
*/}}
{{- define "crl.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "crl.fullname" . }}-config
env:
  - name: POD_NAME
    valueFrom:
      fieldRef:
        fieldPath: metadata.name
  - name: POD_IP
    valueFrom:
      fieldRef:
        fieldPath: status.podIP
{{- end }}
