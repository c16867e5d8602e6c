{{/*
Rules between two values, which values.schema.json (JSON Schema draft-07) cannot state: checked
when the chart renders, so `helm install/upgrade/template` stops with the message.
*/}}
{{- define "feedlot.validate" -}}
{{- $k := .Values.kafka -}}
{{- if gt (int $k.minInsyncReplicas) (int $k.replicationFactor) }}
{{- fail (printf "kafka.minInsyncReplicas (%d) must not exceed kafka.replicationFactor (%d): every acks=all write would be refused" (int $k.minInsyncReplicas) (int $k.replicationFactor)) }}
{{- end }}
{{- range $name := list "consumer" "web" }}
{{- $t := index $.Values $name }}
{{- if $t.enabled }}
{{- $min := $t.replicaCount }}
{{- if $t.autoscaling.enabled }}
{{- $min = $t.autoscaling.minReplicas }}
{{- if gt (int $t.autoscaling.minReplicas) (int $t.autoscaling.maxReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas must not exceed %s.autoscaling.maxReplicas" $name $name) }}
{{- end }}
{{- end }}
{{- $pdb := $t.podDisruptionBudget }}
{{- if and $pdb.enabled (not (kindIs "string" $pdb.minAvailable)) (ge (int $pdb.minAvailable) (int $min)) }}
{{- fail (printf "%s.podDisruptionBudget.minAvailable (%d) must be below the replica count (%d), or no node could ever be drained" $name (int $pdb.minAvailable) (int $min)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.consumer.enabled }}
{{- $max := .Values.consumer.replicaCount }}
{{- if .Values.consumer.autoscaling.enabled }}{{ $max = .Values.consumer.autoscaling.maxReplicas }}{{ end }}
{{- if gt (int $max) (int $k.partitions) }}
{{- fail (printf "consumer replicas (up to %d) exceed kafka.partitions (%d): the extra replicas would get no partition" (int $max) (int $k.partitions)) }}
{{- end }}
{{- end }}
{{- if and .Values.clickhouse.caBundle.secretName .Values.clickhouse.caBundle.configMapName }}
{{- fail "clickhouse.caBundle: set secretName or configMapName, not both" }}
{{- end }}
{{- end -}}
