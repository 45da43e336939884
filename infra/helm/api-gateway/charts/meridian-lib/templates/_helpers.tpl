{{/*
Names and labels shared by every object of a Meridian chart. A process type ("web",
"background", "worker", "beat") is a Deployment of its own; the "web" one keeps the bare
release name, so scorecards and runbooks keep saying Deployment/<service>.
*/}}

{{- define "meridian-lib.deploymentName" -}}
{{- if eq .process "web" -}}
{{ .root.Release.Name }}
{{- else -}}
{{ .root.Release.Name }}-{{ .process }}
{{- end -}}
{{- end -}}

{{- define "meridian-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .process }}
{{- end -}}

{{- define "meridian-lib.labels" -}}
{{ include "meridian-lib.selectorLabels" . }}
app.kubernetes.io/part-of: meridian
app.kubernetes.io/version: {{ .root.Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "meridian-lib.chartLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: meridian
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "meridian-lib.configName" -}}
{{ .Release.Name }}-config
{{- end -}}

{{- define "meridian-lib.secretName" -}}
{{ .Values.secret.name | default .Release.Name }}
{{- end -}}
