{{/*
One process type as a Deployment. Called with (dict "root" $ "process" <name> "spec" <spec>)
where the spec holds: command (the container's argv, as docker-compose.yml runs it), port
(only for a process that serves HTTP), replicas or autoscaling, singleton (exactly one pod:
Recreate, so an update never overlaps two), resources, env, and probes (http paths, or a
heartbeat file for processes without HTTP).
*/}}
{{- define "meridian-lib.deployment" -}}
{{- $root := .root -}}
{{- $spec := .spec -}}
{{- $values := $root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "meridian-lib.deploymentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.labels" . | nindent 4 }}
  {{- with $spec.fixedReplicasReason }}
  annotations:
    # Why no autoscaler: the Gatekeeper autoscaler policy accepts a fixed count with a reason.
    autoscaling.meridian.io/fixed-replicas: {{ . | quote }}
  {{- end }}
spec:
  {{- if $spec.singleton }}
  replicas: 1
  strategy:
    type: Recreate
  {{- else if not $spec.autoscaling }}
  replicas: {{ $spec.replicas | default 1 }}
  {{- end }}
  {{- /* With an HPA the replica count is the autoscaler's: leaving it out keeps every sync
       from resetting what the HPA chose. */}}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "meridian-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "meridian-lib.labels" . | nindent 8 }}
      annotations:
        # A changed ConfigMap rolls the pods, which read it only at start.
        checksum/config: {{ include "meridian-lib.configMap" $root | sha256sum }}
    spec:
      serviceAccountName: {{ $root.Release.Name }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ $spec.terminationGracePeriodSeconds | default 30 }}
      securityContext:
        {{- toYaml $values.podSecurityContext | nindent 8 }}
      {{- if not $spec.singleton }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: 1
          topologyKey: {{ $key }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "meridian-lib.selectorLabels" $ | nindent 14 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .process }}
          image: "{{ $values.image.repository }}:{{ $values.image.tag }}"
          imagePullPolicy: IfNotPresent
          {{- if $spec.command }}
          command:
            {{- toYaml $spec.command | nindent 12 }}
          {{- end }}
          {{- if $spec.port }}
          ports:
            - name: http
              containerPort: {{ $spec.port }}
            {{- with $spec.probes.http.port }}
            - name: status
              containerPort: {{ . }}
            {{- end }}
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "meridian-lib.configName" $root }}
          {{- if or $values.secret.keys $values.secret.optionalKeys $spec.env }}
          env:
            {{- range $name := $values.secret.keys }}
            - name: {{ $name }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "meridian-lib.secretName" $root }}
                  key: {{ $name }}
            {{- end }}
            {{- range $name := $values.secret.optionalKeys }}
            - name: {{ $name }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "meridian-lib.secretName" $root }}
                  key: {{ $name }}
                  optional: true
            {{- end }}
            {{- range $name, $value := $spec.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          {{- end }}
          securityContext:
            {{- toYaml $values.securityContext | nindent 12 }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          {{- include "meridian-lib.probes" . | trim | nindent 10 }}
          volumeMounts:
            # The root filesystem is read-only: gunicorn's worker heartbeat files, the
            # Prometheus multiprocess directory, Celery beat's schedule and the probes'
            # heartbeat files all live under /tmp.
            - name: tmp
              mountPath: /tmp
            {{- range $values.secretFiles }}
            - name: secret-files
              mountPath: {{ .path }}
              subPath: {{ .key }}
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $values.tmpSizeLimit | default "64Mi" }}
        {{- if $values.secretFiles }}
        - name: secret-files
          secret:
            secretName: {{ include "meridian-lib.secretName" $root }}
            items:
              {{- range $values.secretFiles }}
              - key: {{ .key }}
                path: {{ .key }}
              {{- end }}
        {{- end }}
{{- end -}}

{{/*
Probes of a process: HTTP paths on its port, or, for a process without HTTP, the age of
the heartbeat file it touches while its loops are alive (`find -mmin` is in every Debian
image; no interpreter starts per probe).
*/}}
{{- define "meridian-lib.probes" -}}
{{- $probes := .spec.probes -}}
{{- if $probes.http }}
{{- $port := ternary "status" "http" (hasKey $probes.http "port") }}
livenessProbe:
  httpGet:
    path: {{ $probes.http.liveness }}
    port: {{ $port }}
  periodSeconds: 15
  timeoutSeconds: 3
  failureThreshold: 4
readinessProbe:
  httpGet:
    path: {{ $probes.http.readiness }}
    port: {{ $port }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
startupProbe:
  httpGet:
    path: {{ $probes.http.liveness }}
    port: {{ $port }}
  periodSeconds: 2
  failureThreshold: 30
{{- else if $probes.heartbeat }}
{{- $check := printf "test -n \"$(find %s -mmin -%v 2>/dev/null)\"" $probes.heartbeat.file ($probes.heartbeat.maxAgeMinutes | default 2) }}
livenessProbe:
  exec:
    command: ["sh", "-c", {{ $check | quote }}]
  periodSeconds: 30
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  exec:
    command: ["sh", "-c", {{ $check | quote }}]
  periodSeconds: 30
  timeoutSeconds: 5
startupProbe:
  exec:
    command: ["sh", "-c", {{ $check | quote }}]
  periodSeconds: 5
  failureThreshold: 24
{{- else }}
{{- fail (printf "process %s needs probes.http or probes.heartbeat" .process) }}
{{- end }}
{{- end -}}
