{{/*
Progressive delivery of the serving process. With `canary.enabled` the "web" process is an
Argo Rollouts Rollout instead of a Deployment: the same pod template, released to a share
of the pods at a time, and every analysis step asks Prometheus for the service's SLO burn
rate (the slo:current_burn_rate:ratio recording rules of infra/prometheus/slo_rules.yml).
A burn above `canary.analysis.maxBurnRate` aborts the rollout and scales the canary away.
Without a traffic router the weights are replica shares of the HPA's count.
*/}}

{{- define "meridian-lib.canaryEnabled" -}}
{{- if and (eq .process "web") .root.Values.canary .root.Values.canary.enabled -}}true{{- end -}}
{{- end -}}

{{- define "meridian-lib.analysisName" -}}
{{ .Release.Name }}-slo-burn-rate
{{- end -}}

{{- define "meridian-lib.rollout" -}}
{{- $rollout := include "meridian-lib.deployment" . | fromYaml -}}
{{- $canary := .root.Values.canary -}}
{{- $analysis := dict "templates" (list (dict "templateName" (include "meridian-lib.analysisName" .root))) -}}
{{- $steps := list -}}
{{- range $step := $canary.steps | default (list (dict "setWeight" 10) (dict "pause" (dict "duration" "5m")) (dict "analysis" true) (dict "setWeight" 50) (dict "pause" (dict "duration" "10m")) (dict "analysis" true)) -}}
{{- if hasKey $step "analysis" -}}
{{- $steps = append $steps (dict "analysis" $analysis) -}}
{{- else -}}
{{- $steps = append $steps $step -}}
{{- end -}}
{{- end -}}
{{- $_ := set $rollout "apiVersion" "argoproj.io/v1alpha1" -}}
{{- $_ := set $rollout "kind" "Rollout" -}}
{{- $_ := set $rollout.spec "strategy" (dict "canary" (dict "maxSurge" "25%" "maxUnavailable" 0 "steps" $steps)) -}}
{{ toYaml $rollout }}
{{- end -}}

{{/* The burn rate over the last 5 minutes, across every SLO of the service: 1 spends the
     error budget exactly over the SLO period; the multi-window alerts page at 14.4. */}}
{{- define "meridian-lib.analysisTemplate" -}}
{{- $analysis := .Values.canary.analysis | default dict -}}
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: {{ include "meridian-lib.analysisName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "meridian-lib.chartLabels" . | nindent 4 }}
spec:
  metrics:
    - name: slo-burn-rate
      interval: {{ $analysis.interval | default "1m" }}
      count: {{ $analysis.count | default 5 }}
      failureLimit: 1
      # No samples (the recording rules not evaluated yet) is inconclusive, not a pass.
      successCondition: len(result) > 0 && result[0] <= {{ $analysis.maxBurnRate | default 6 }}
      failureCondition: len(result) > 0 && result[0] > {{ $analysis.maxBurnRate | default 6 }}
      provider:
        prometheus:
          address: {{ $analysis.prometheusAddress | default "http://prometheus.monitoring.svc.cluster.local:9090" }}
          query: max(slo:current_burn_rate:ratio{sloth_service="{{ .Values.service | default .Release.Name }}"})
{{- end -}}
