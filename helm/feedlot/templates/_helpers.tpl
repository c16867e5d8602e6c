{{- define "feedlot.fullname" -}}
{{- printf "%s-ingest" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "feedlot.labels" -}}
app.kubernetes.io/name: feedlot-ingest
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "feedlot.selector" -}}
app.kubernetes.io/name: feedlot-ingest
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "dashboards.fullname" -}}
{{- printf "%s-dashboards" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "dashboards.labels" -}}
app.kubernetes.io/name: feedlot-dashboards
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "dashboards.selector" -}}
app.kubernetes.io/name: feedlot-dashboards
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
