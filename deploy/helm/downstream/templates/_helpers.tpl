{{/* Chart name. */}}
{{- define "downstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the prefix of every resource. */}}
{{- define "downstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "downstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The three services: name (resource suffix, image, component label) and their values key. */}}
{{- define "downstream.components" -}}
- { name: todo-service, key: todoService }
- { name: event-gateway, key: eventGateway }
- { name: auth-service, key: authService }
{{- end }}

{{/* Labels on every object. */}}
{{- define "downstream.labels" -}}
helm.sh/chart: {{ include "downstream.chart" . }}
app.kubernetes.io/name: {{ include "downstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: downstream
{{- end }}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "todo-service"). */}}
{{- define "downstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "downstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Resource name of one component (its Deployment, Service, ...): <fullname>-<component>. */}}
{{- define "downstream.componentName" -}}
{{- printf "%s-%s" (include "downstream.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "downstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "downstream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "downstream.secretName" -}}
{{- default (printf "%s-secrets" (include "downstream.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "downstream.configMapName" -}}
{{- printf "%s-config" (include "downstream.fullname" .) }}
{{- end }}

{{/* Image of one component. Call with (dict "root" $ "values" $v). */}}
{{- define "downstream.image" -}}
{{- $tag := .values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* In-cluster URL of a component's Service. Call with (dict "root" $ "component" "auth-service" "port" 3002). */}}
{{- define "downstream.serviceFqdn" -}}
{{- printf "%s.%s.svc.%s" (include "downstream.componentName" .) .root.Release.Namespace .root.Values.ingress.clusterDomain }}
{{- end }}

{{/* A secretKeyRef env var. Call with (dict "root" $ "name" "JWT_SECRET"). */}}
{{- define "downstream.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "downstream.secretName" .root }}
      key: {{ .name }}
{{- end }}

{{/* Whether the Ingresses are rendered (the Gateway API alternative replaces them). */}}
{{- define "downstream.ingressEnabled" -}}
{{- if and .Values.ingress.enabled (not .Values.gatewayApi.enabled) }}true{{ end }}
{{- end }}
