{{/* The release's name prefix for every object. */}}
{{- define "vigil.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vigil.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: call with (list $ "agent"). */}}
{{- define "vigil.selector" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "vigil.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The NATS URL agents and servers use, or "" when there is none. */}}
{{- define "vigil.natsURL" -}}
{{- if .Values.nats.enabled -}}
nats://{{ include "vigil.fullname" . }}-nats:4222
{{- else -}}
{{ .Values.nats.url }}
{{- end -}}
{{- end -}}

{{/* The Secret holding the NATS token, when auth is on. */}}
{{- define "vigil.natsSecret" -}}
{{- if .Values.nats.auth.existingSecret -}}
{{ .Values.nats.auth.existingSecret }}
{{- else -}}
{{ include "vigil.fullname" . }}-nats-auth
{{- end -}}
{{- end -}}

{{- define "vigil.natsAuth" -}}
{{- and .Values.nats.auth.enabled (or .Values.nats.enabled .Values.nats.auth.existingSecret) -}}
{{- end -}}

{{- define "vigil.postgresSecret" -}}
{{- if .Values.postgresql.auth.existingSecret -}}
{{ .Values.postgresql.auth.existingSecret }}
{{- else -}}
{{ include "vigil.fullname" . }}-postgresql-auth
{{- end -}}
{{- end -}}
