{{/*
cert-manager Certificates (cert-manager.io/v1) a chart asks for in `certificates:`; none by
default. cert-manager issues each into the Secret of the same name and renews it
`renewBefore` ahead of expiry, which must stay above the 14 days at which
CertificateExpiringSoon (infra/prometheus/certificates_rules.yml) fires, or every renewal
would page first.

  certificates:
    ingressTLS:          # the public host(s) the ingress serves this chart on
      enabled: true
      dnsNames: [portal.meridian.example]
      issuer: letsencrypt-prod          # ClusterIssuer (infra/certificates/issuers.yaml)
    mtls:                # serving and client certificate of the chart's pods, from the
      enabled: true      # internal CA, for <release>.<namespace>.svc and its short forms
      issuer: meridian-internal-ca

Both take `duration` (default 2160h) and `renewBefore` (default 720h), and `issuerKind`
(default ClusterIssuer). Secret names: <release>-tls and <release>-mtls.
*/}}

{{- define "meridian-lib.certificate" -}}
{{- $root := .root -}}
{{- $spec := .spec -}}
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "meridian-lib.chartLabels" $root | nindent 4 }}
    meridian.io/certificate: {{ .purpose }}
spec:
  secretName: {{ .name }}
  {{- with .commonName }}
  commonName: {{ . }}
  {{- end }}
  dnsNames:
    {{- toYaml .dnsNames | nindent 4 }}
  duration: {{ $spec.duration | default "2160h" }}
  renewBefore: {{ $spec.renewBefore | default "720h" }}
  privateKey:
    algorithm: ECDSA
    size: 256
    rotationPolicy: Always
  usages:
    {{- toYaml .usages | nindent 4 }}
  issuerRef:
    name: {{ required (printf "certificates.%s.issuer is required" .purpose) $spec.issuer }}
    kind: {{ $spec.issuerKind | default "ClusterIssuer" }}
    group: cert-manager.io
{{- end -}}

{{- define "meridian-lib.certificates" -}}
{{- $certs := .Values.certificates | default dict -}}
{{- $release := .Release.Name -}}
{{- $ns := .Release.Namespace -}}
{{- with $certs.ingressTLS }}
{{- if .enabled }}
---
{{ include "meridian-lib.certificate" (dict "root" $ "spec" . "purpose" "ingressTLS"
      "name" (printf "%s-tls" $release)
      "dnsNames" (required "certificates.ingressTLS.dnsNames is required" .dnsNames)
      "usages" (list "digital signature" "key encipherment" "server auth")) }}
{{- end }}
{{- end }}
{{- with $certs.mtls }}
{{- if .enabled }}
---
{{ include "meridian-lib.certificate" (dict "root" $ "spec" . "purpose" "mtls"
      "name" (printf "%s-mtls" $release)
      "commonName" (printf "%s.%s.svc" $release $ns)
      "dnsNames" (list $release (printf "%s.%s" $release $ns) (printf "%s.%s.svc" $release $ns)
                       (printf "%s.%s.svc.cluster.local" $release $ns))
      "usages" (list "digital signature" "key encipherment" "server auth" "client auth")) }}
{{- end }}
{{- end }}
{{- end -}}
