{{/*
Names and labels shared by the templates. Every object is named <release>-<part>; every pod carries
app.kubernetes.io/instance (the release) and app.kubernetes.io/component (gateway, bridge, worker, history),
which the Services, the disruption budget and the NetworkPolicies select on.
*/}}

{{- define "orders.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "orders.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The labels a part's pods are selected by. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "orders.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "orders.secretName" -}}
{{- default (printf "%s-credentials" (include "orders.fullname" .)) .Values.secret.name -}}
{{- end -}}

{{- define "orders.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag -}}
{{- printf "%s:%s" .root.Values.image.repository (default $tag .tag) -}}
{{- end -}}

{{/*
A build id as a name suffix: lower case, anything but [a-z0-9-] replaced by "-", at most 20 characters
(Deployment names stay within 63 with the release prefix).
*/}}
{{- define "orders.buildSuffix" -}}
{{- regexReplaceAll "[^a-z0-9-]" (lower .) "-" | trunc 20 | trimSuffix "-" -}}
{{- end -}}

{{/*
What every app pod shares: the service account, the pod security context, and a writable /tmp (the
root filesystem is read-only).
*/}}
{{- define "orders.podCommon" -}}
serviceAccountName: {{ include "orders.fullname" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
A container's environment sources: the common ConfigMap, then the app's own (which wins on a shared
name), then its Kafka password from the Secret. Call with (dict "root" $ "app" "gateway").
*/}}
{{- define "orders.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "orders.fullname" .root }}-common
  - configMapRef:
      name: {{ include "orders.fullname" .root }}-{{ .app }}
{{- end -}}

{{- define "orders.kafkaPassword" -}}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "orders.secretName" .root }}
      key: {{ .app }}-kafka-password
{{- end -}}

{{/* The order history's database (history and gateway): its URL may hold a password, so only from the Secret. */}}
{{- define "orders.databaseUrl" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "orders.secretName" . }}
      key: database-url
{{- end -}}

{{/* Liveness and readiness on the admin port. Call with the app's values. */}}
{{- define "orders.probes" -}}
startupProbe:
  httpGet: { path: /livez, port: admin }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /livez, port: admin }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: admin }
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{- define "orders.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* A hash of the rendered configuration, so a changed setting rolls the pods. */}}
{{- define "orders.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmaps.yaml") . | sha256sum }}
{{- end -}}
