{{/* Names, labels and shared pod parts of the feedlot chart. */}}

{{- define "feedlot.fullname" -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<component>", e.g. feedlot-consumer. Call with (list $ "consumer"). */}}
{{- define "feedlot.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "feedlot.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "feedlot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "feedlot.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of a component. Call with (list $ "consumer"). */}}
{{- define "feedlot.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: feedlot
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "feedlot.labels" -}}
{{- $root := index . 0 -}}
{{ include "feedlot.selector" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: feedlot
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{- end -}}

{{- define "feedlot.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The ClickHouse URLs as the binaries take them: one comma-separated string. */}}
{{- define "feedlot.clickhouseUrls" -}}
{{- join "," .Values.clickhouse.urls -}}
{{- end -}}

{{/*
A TOML value: strings quoted, whole numbers written as integers (YAML numbers reach templates as
floats; a TOML float in an integer field is refused, an integer in a float field is
accepted), lists inline.
*/}}
{{- define "feedlot.tomlValue" -}}
{{- if kindIs "string" . -}}
{{ toJson . }}
{{- else if kindIs "bool" . -}}
{{ . }}
{{- else if kindIs "float64" . -}}
{{- if eq (floor .) . }}{{ int64 . }}{{ else }}{{ . }}{{ end -}}
{{- else if or (kindIs "int" .) (kindIs "int64" .) -}}
{{ . }}
{{- else if kindIs "slice" . -}}
[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "feedlot.tomlValue" $v }}{{ end }}]
{{- else -}}
{{ fail (printf "cannot write %v (%s) as a TOML value" . (kindOf .)) }}
{{- end -}}
{{- end -}}

{{/* A config file from a dict of sections, each a dict of scalar keys; sorted, no blank lines
(a blank line in a YAML block scalar would carry trailing spaces). */}}
{{- define "feedlot.toml" -}}
{{- range $section, $keys := . }}
[{{ $section }}]
{{- range $key, $value := $keys }}
{{- if kindIs "map" $value }}
{{- fail (printf "config [%s] %s: nested tables are not supported" $section $key) }}
{{- end }}
{{ $key }} = {{ include "feedlot.tomlValue" $value }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod affinity and spread of a component. Call with (list $ "consumer" .Values.consumer). */}}
{{- define "feedlot.placement" -}}
{{- $root := index . 0 -}}
{{- $tier := index . 2 -}}
affinity:
  podAntiAffinity:
    {{- if eq $tier.podAntiAffinity "hard" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels: {{- include "feedlot.selector" (list $root (index . 1)) | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels: {{- include "feedlot.selector" (list $root (index . 1)) | nindent 14 }}
    {{- end }}
{{- if $tier.spreadAcrossZones }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels: {{- include "feedlot.selector" (list $root (index . 1)) | nindent 8 }}
{{- end }}
{{- with $tier.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tier.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tier.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* Pod-level settings every pod of the chart shares. */}}
{{- define "feedlot.podCommon" -}}
serviceAccountName: {{ include "feedlot.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* ClickHouse password env var, for prefix INGEST or DASHBOARDS. Call with (list $ "INGEST"). */}}
{{- define "feedlot.clickhouseEnv" -}}
{{- $root := index . 0 -}}
{{- $p := index . 1 -}}
- name: {{ $p }}_CLICKHOUSE_URL
  value: {{ include "feedlot.clickhouseUrls" $root | quote }}
- name: {{ $p }}_CLICKHOUSE_DATABASE
  value: {{ $root.Values.clickhouse.database | quote }}
- name: {{ $p }}_CLICKHOUSE_CLUSTER
  value: {{ $root.Values.clickhouse.cluster | quote }}
{{- if $root.Values.clickhouse.passwordSecret.name }}
- name: {{ $p }}_CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.clickhouse.passwordSecret.name }}
      key: {{ $root.Values.clickhouse.passwordSecret.key }}
{{- end }}
{{- if include "feedlot.caBundleEnabled" $root }}
- name: SSL_CERT_FILE
  value: /etc/feedlot/clickhouse-ca/{{ $root.Values.clickhouse.caBundle.key }}
{{- end }}
{{- end -}}

{{- define "feedlot.caBundleEnabled" -}}
{{- if or .Values.clickhouse.caBundle.secretName .Values.clickhouse.caBundle.configMapName }}true{{ end -}}
{{- end -}}

{{- define "feedlot.caBundleMount" -}}
- name: clickhouse-ca
  mountPath: /etc/feedlot/clickhouse-ca
  readOnly: true
{{- end -}}

{{- define "feedlot.caBundleVolume" -}}
{{- $ca := .Values.clickhouse.caBundle -}}
{{- if $ca.secretName -}}
- name: clickhouse-ca
  secret:
    secretName: {{ $ca.secretName }}
    items: [{ key: {{ $ca.key }}, path: {{ $ca.key }} }]
{{- else if $ca.configMapName -}}
- name: clickhouse-ca
  configMap:
    name: {{ $ca.configMapName }}
    items: [{ key: {{ $ca.key }}, path: {{ $ca.key }} }]
{{- end }}
{{- end -}}

{{/* The consumer's env (also the migrate Job's). */}}
{{- define "feedlot.consumerEnv" -}}
- name: RUST_LOG
  value: {{ .Values.logLevel | quote }}
- name: INGEST_CONFIG
  value: /etc/feedlot/ingest.toml
- name: INGEST_KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: INGEST_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | int | quote }}
- name: INGEST_KAFKA_REPLICATION_FACTOR
  value: {{ .Values.kafka.replicationFactor | int | quote }}
- name: INGEST_KAFKA_MIN_INSYNC_REPLICAS
  value: {{ .Values.kafka.minInsyncReplicas | int | quote }}
{{ include "feedlot.clickhouseEnv" (list . "INGEST") }}
{{- end -}}

{{/* ingest's config file (ingest.toml). */}}
{{- define "feedlot.consumerConfig" -}}
{{- $v := .Values -}}
{{- $cfg := dict
  "kafka" (dict
    "brokers" $v.kafka.brokers
    "topic" $v.kafka.topic
    "dead_letter_topic" $v.kafka.deadLetterTopic
    "group_id" $v.kafka.groupId
    "partitions" $v.kafka.partitions
    "replication_factor" $v.kafka.replicationFactor
    "min_insync_replicas" $v.kafka.minInsyncReplicas)
  "clickhouse" (dict
    "url" (include "feedlot.clickhouseUrls" .)
    "database" $v.clickhouse.database
    "user" $v.clickhouse.user
    "cluster" $v.clickhouse.cluster)
  "batch" (dict
    "max_rows" $v.consumer.batch.maxRows
    "max_wait_ms" $v.consumer.batch.maxWaitMs)
  "ops" (dict
    "listen" (printf "0.0.0.0:%d" (int $v.consumer.opsPort)))
-}}
{{- include "feedlot.toml" (mergeOverwrite $cfg (deepCopy $v.consumer.extraConfig)) -}}
{{- end -}}

{{/* The dashboards config file (dashboards.toml). */}}
{{- define "feedlot.webConfig" -}}
{{- $v := .Values -}}
{{- $web := dict
  "listen" (printf "0.0.0.0:%d" (int $v.web.port))
  "ops_listen" (printf "0.0.0.0:%d" (int $v.web.opsPort))
  "session_hours" $v.web.sessionHours
  "secure_cookie" $v.web.secureCookie -}}
{{- if $v.web.usersSecret }}
{{- $_ := set $web "users_file" "/etc/feedlot-users/users.toml" }}
{{- end }}
{{- $cfg := dict
  "clickhouse" (dict
    "url" (include "feedlot.clickhouseUrls" .)
    "database" $v.clickhouse.database
    "user" $v.clickhouse.user
    "cluster" $v.clickhouse.cluster)
  "web" $web
  "benchmarks" (dict
    "enabled" $v.benchmarks.enabled
    "refresh_secs" $v.benchmarks.refreshSecs
    "full_refresh_secs" $v.benchmarks.fullRefreshSecs)
  "analytics" (dict
    "target_sale_weight_kg" $v.analytics.targetSaleWeightKg
    "target_live_weight_kg" $v.analytics.targetLiveWeightKg)
-}}
{{- include "feedlot.toml" (mergeOverwrite $cfg (deepCopy $v.web.extraConfig)) -}}
{{- end -}}
