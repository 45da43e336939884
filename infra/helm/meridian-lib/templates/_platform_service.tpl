{{/*
A platform service (platform_services/): its two process types, built from the chart's
`service`, `port`, `web` and `background` values, with the commands docker-compose.yml runs:

  web         gunicorn -c python:platform_services.gunicorn_conf --bind 0.0.0.0:<port>
              'platform_services.wsgi:create("<service>")'   (HPA, Service, probes on /healthz)
  background  python -m platform_services background <service>
              (outbox relay, consumers, once-per-service flushers: one pod, Recreate)

Readiness is /healthz too: /readyz needs a platform token the kubelet cannot send, and a
degraded dependency must not empty the load balancer (platform_services/README.md).
*/}}
{{- define "meridian-lib.platformService" -}}
{{- $v := .Values -}}
{{- $web := dict
      "command" (list "gunicorn" "-c" "python:platform_services.gunicorn_conf" "--bind"
                      (printf "0.0.0.0:%v" $v.port)
                      (printf "platform_services.wsgi:create(\"%s\")" $v.service))
      "port" $v.port
      "autoscaling" $v.web.autoscaling
      "resources" $v.web.resources
      "env" (dict "DB_POOL_SIZE" (toString $v.web.database.poolSize)
                  "DB_MAX_OVERFLOW" (toString $v.web.database.maxOverflow))
      "probes" (dict "http" (dict "liveness" "/healthz" "readiness" "/healthz")) -}}
{{- $processes := dict "web" $web -}}
{{- if $v.background.enabled -}}
{{- $_ := set $processes "background" (dict
      "command" (list "python" "-m" "platform_services" "background" $v.service)
      "singleton" true
      "resources" $v.background.resources
      "env" (dict "DB_POOL_SIZE" (toString $v.background.database.poolSize)
                  "DB_MAX_OVERFLOW" (toString $v.background.database.maxOverflow)
                  "HEARTBEAT_FILE" "/tmp/background.alive")
      "probes" (dict "heartbeat" (dict "file" "/tmp/background.alive" "maxAgeMinutes" 2))) -}}
{{- end -}}
{{ include "meridian-lib.renderProcesses" (dict "root" . "processes" $processes) }}
{{- end -}}
