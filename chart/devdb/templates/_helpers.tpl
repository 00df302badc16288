{{/* The chart name (nameOverride wins), at most 63 characters. */}}
{{- define "devdb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: <release>-<name>, or the release name when it already contains the chart name.
DevDb's run-time names derive from it, so keep it short enough for suffixes (at most 50 characters, so <fullname>-wildcard-tls is a valid name).
*/}}
{{- define "devdb.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "devdb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object the chart renders. */}}
{{- define "devdb.labels" -}}
helm.sh/chart: {{ include "devdb.chart" . }}
{{ include "devdb.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels: name and instance only. */}}
{{- define "devdb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "devdb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* What marks pods of this DevDb installation (API and database pods): the shared load balancer selects them. */}}
{{- define "devdb.instanceLabels" -}}
app.kubernetes.io/part-of: devdb
devdb.io/instance: {{ include "devdb.fullname" . }}
{{- end }}

{{/* Labels that select the API pods. */}}
{{- define "devdb.apiSelectorLabels" -}}
{{ include "devdb.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/* The API image; restore Jobs run it too. */}}
{{- define "devdb.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{- define "devdb.serviceAccountName" -}}
{{- include "devdb.fullname" . }}
{{- end }}

{{- define "devdb.restoreServiceAccountName" -}}
{{- printf "%s-restore" (include "devdb.fullname" .) }}
{{- end }}

{{/* The Secret holding tokens.json. */}}
{{- define "devdb.tokensSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-tokens" (include "devdb.fullname" .)) }}
{{- end }}

{{/* The Secret holding the wildcard certificate: cert-manager's, the user's, or none. */}}
{{- define "devdb.tlsSecretName" -}}
{{- if .Values.tls.certManager.enabled }}
{{- printf "%s-wildcard-tls" (include "devdb.fullname" .) }}
{{- else }}
{{- .Values.tls.secretName }}
{{- end }}
{{- end }}

{{/* Seconds as a .NET TimeSpan ("d.hh:mm:ss"), which is how DevDb reads durations. */}}
{{- define "devdb.timespan" -}}
{{- $s := int . -}}
{{- printf "%d.%02d:%02d:%02d" (div $s 86400) (mod (div $s 3600) 24) (mod (div $s 60) 60) (mod $s 60) -}}
{{- end }}

{{/* The Secret with the certificate of the API's https port on the load balancer. */}}
{{- define "devdb.apiTlsSecretName" -}}
{{- .Values.loadBalancer.apiCertificateSecret | default (include "devdb.tlsSecretName" .) | default (printf "%s-api-tls" (include "devdb.fullname" .)) }}
{{- end }}

{{/* Settings that cannot be expressed in values.schema.json, checked while rendering. */}}
{{- define "devdb.validate" -}}
{{- if and .Values.traefik.enabled (not .Values.baseDomain) }}
{{- fail "traefik.enabled needs baseDomain: databases are routed by their host name <name>.<baseDomain>." }}
{{- end }}
{{- if and .Values.traefik.enabled (not (include "devdb.tlsSecretName" .)) }}
{{- fail "traefik.enabled needs a TLS certificate for *.<baseDomain> (Traefik learns the host name from TLS): set tls.certManager.enabled=true or tls.secretName." }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.baseDomain) }}
{{- fail "tls.certManager.enabled needs baseDomain: the certificate is issued for *.<baseDomain>." }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.enabled needs tls.certManager.issuerRef.name: the cert-manager Issuer or ClusterIssuer to use." }}
{{- end }}
{{- if gt (int .Values.loadBalancer.portRangeStart) (int .Values.loadBalancer.portRangeEnd) }}
{{- fail "loadBalancer.portRangeStart must not be greater than loadBalancer.portRangeEnd." }}
{{- end }}
{{- end }}
