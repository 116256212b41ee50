{{/* Nom du chart. */}}
{{- define "odoo.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Nom complet : le nom de la release s'il contient déjà celui du chart. */}}
{{- define "odoo.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "odoo.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "odoo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "odoo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "odoo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "odoo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "odoo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: odoo
{{- end }}

{{- define "odoo.postgresql.selectorLabels" -}}
app.kubernetes.io/name: postgresql
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: primary
{{- end }}

{{/* Mot de passe stable dérivé de la release quand aucun n'est fourni. */}}
{{- define "odoo.password" -}}
{{- .Values.odooPassword | default (printf "odoo/%s/%s" .Release.Namespace .Release.Name | sha256sum | trunc 10) }}
{{- end }}

{{- define "odoo.postgresql.password" -}}
{{- .Values.postgresql.auth.password | default (printf "postgresql/%s/%s" .Release.Namespace .Release.Name | sha256sum | trunc 16) }}
{{- end }}
