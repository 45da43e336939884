{{/*
The objects around the Deployments: ConfigMap (non-secret settings), Service and HPA of
the serving process, PDBs of the replicated ones, one NetworkPolicy and ServiceAccount.
*/}}

{{- define "meridian-lib.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "meridian-lib.configName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "meridian-lib.chartLabels" . | nindent 4 }}
data:
  {{- range $name, $value := .Values.config }}
  {{ $name }}: {{ $value | quote }}
  {{- end }}
{{- end -}}

{{- define "meridian-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .root.Release.Name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "meridian-lib.selectorLabels" . | nindent 4 }}
  ports:
    # /metrics is served on the same port as the API.
    - name: http
      port: {{ .spec.port }}
      targetPort: http
{{- end -}}

{{- define "meridian-lib.hpa" -}}
{{- $scaling := .spec.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "meridian-lib.deploymentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    {{- if include "meridian-lib.canaryEnabled" . }}
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    {{- else }}
    apiVersion: apps/v1
    kind: Deployment
    {{- end }}
    name: {{ include "meridian-lib.deploymentName" . }}
  minReplicas: {{ $scaling.minReplicas }}
  maxReplicas: {{ $scaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $scaling.targetCPUUtilizationPercentage }}
  behavior:
    # Scale up at once, down slowly: a burst that ends must not drop capacity mid-retry.
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end -}}

{{- define "meridian-lib.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "meridian-lib.deploymentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.labels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "meridian-lib.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* Default-deny ingress for every pod of the chart; the serving port is open to the
     callers in networkPolicy.allowFrom and to Prometheus in the monitoring namespace.
     Pods without a port (background, worker, beat) take no connections at all. */}}
{{- define "meridian-lib.networkPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .root.Release.Name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.chartLabels" .root | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ .root.Chart.Name }}
      app.kubernetes.io/instance: {{ .root.Release.Name }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    {{- range $port := .ports }}
    - from:
        {{- toYaml $.root.Values.networkPolicy.allowFrom | nindent 8 }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - port: {{ $port }}
    {{- end }}
  egress:
    {{- include "meridian-lib.egress" .root | nindent 4 }}
{{- end -}}

{{/* Default-deny egress: cluster DNS, the data stores (PostgreSQL direct and through
     PgBouncer, Redis, RabbitMQ; managed services outside the cluster, so matched by port
     and, when networkPolicy.datastores lists their CIDRs, by address too), and the
     in-cluster services the chart's settings point at (every `http://<svc>.<ns>.svc.
     cluster.local:<port>` value of .Values.config, so a new dependency opens with the
     setting that introduces it). networkPolicy.extraEgress adds rules a chart needs beyond
     these, stated in its values. */}}
{{- define "meridian-lib.egress" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
- ports:
    - port: 5432   # PostgreSQL
      protocol: TCP
    - port: 6432   # PgBouncer
      protocol: TCP
    - port: 6379   # Redis
      protocol: TCP
    - port: 5672   # RabbitMQ (AMQP)
      protocol: TCP
    - port: 5671   # RabbitMQ (AMQPS)
      protocol: TCP
  {{- with $np.datastores }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- $pattern := "^https?://([a-z0-9-]+)[.]([a-z0-9-]+)[.]svc[.]cluster[.]local:([0-9]+)" }}
{{- range $name, $value := .Values.config }}
{{- $url := toString $value }}
{{- if regexMatch $pattern $url }}
{{- $match := regexFind $pattern $url }}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ regexReplaceAll $pattern $match "${2}" }}
      podSelector:
        matchLabels:
          app.kubernetes.io/name: {{ regexReplaceAll $pattern $match "${1}" }}
  ports:
    - port: {{ regexReplaceAll $pattern $match "${3}" }}
      protocol: TCP
{{- end }}
{{- end }}
{{- with $np.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "meridian-lib.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "meridian-lib.chartLabels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{/*
Everything a chart renders, from `.Values.processes` (a map: process type → spec, see
meridian-lib.deployment). A process with a port gets the Service; one with autoscaling an
HPA; one that may run two pods at once a PDB; `certificates:` adds cert-manager Certificates
(_certificate.tpl).
*/}}
{{- define "meridian-lib.all" -}}
{{- include "meridian-lib.renderProcesses" (dict "root" . "processes" .Values.processes) }}
{{- end -}}

{{- define "meridian-lib.renderProcesses" -}}
{{- $root := .root -}}
{{- $ports := list -}}
{{ include "meridian-lib.configMap" $root }}
---
{{ include "meridian-lib.serviceAccount" $root }}
{{- range $name, $spec := .processes }}
{{- if or (not (hasKey $spec "enabled")) $spec.enabled }}
{{- $ctx := dict "root" $root "process" $name "spec" $spec }}
---
{{- if include "meridian-lib.canaryEnabled" $ctx }}
{{ include "meridian-lib.rollout" $ctx }}
---
{{ include "meridian-lib.analysisTemplate" $root }}
{{- else }}
{{ include "meridian-lib.deployment" $ctx }}
{{- end }}
{{- if $spec.port }}
{{- $ports = append $ports $spec.port }}
---
{{ include "meridian-lib.service" $ctx }}
{{- end }}
{{- if $spec.autoscaling }}
---
{{ include "meridian-lib.hpa" $ctx }}
{{- end }}
{{- if and (not $spec.singleton) (or $spec.autoscaling (gt (int ($spec.replicas | default 1)) 1)) }}
---
{{ include "meridian-lib.pdb" $ctx }}
{{- end }}
{{- end }}
{{- end }}
---
{{ include "meridian-lib.networkPolicy" (dict "root" $root "ports" $ports) }}
{{- include "meridian-lib.certificates" $root }}
{{- end -}}
