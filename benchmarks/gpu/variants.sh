#!/usr/bin/env bash
# benchmarks/gpu/variants.sh: the protected server alone under one load, once per configuration
# variant, to find what limits it on the GPU host (diagnosis, not the reported figures).
# One 10 s window moves about 5% between runs of the same server on that host, so with REPEAT=N the
# whole list runs N times, interleaved (A B A B ...): name the server's defaults 'default=none' in
# the list to measure them beside the variants.
# A setting '@--OPTION=VALUE' is the load generator's own (e.g. '@--http-client=httpclient'), not the server's.
# PHASES: the one phase to run (default protected; e.g. unprotected). GPU_MODELS: the model repository.
# usage: [REPEAT=N] [PHASES=P] benchmarks/gpu/variants.sh MODEL WIRE CONCURRENCY 'NAME=K=V+K=V+@--OPTION=VALUE' ...
set -uo pipefail
app=${APP:-/tmp/app}; out=${OUT:-/tmp/gpu-out}; repo=${GPU_MODELS:-/tmp/gpu-models}
mkdir -p "$out"
# shellcheck disable=SC1091
. "$app/env.sh"
[[ -f $repo/resnet50-fp16/config.json ]] || python3 benchmarks/gpu/export_resnet50.py "$repo" > "$out/export.log" 2>&1
model=$1 wire=$2 concurrency=$3; shift 3
phase=${PHASES:-protected}
for round in $(seq "${REPEAT:-1}"); do
for variant in "$@"; do
  name=${variant%%=*}; settings=${variant#*=}
  [[ ${REPEAT:-1} -gt 1 ]] && name="$name#$round"
  envs=(); IFS='+' read -ra pairs <<< "$settings"
  for pair in "${pairs[@]}"; do
    if [[ $pair == @* ]]; then pair=${pair#@}; envs+=("${pair%%=*}" "${pair#*=}")
    elif [[ -n $pair && $pair != none ]]; then envs+=(--server-env "$pair"); fi
  done
  line=$(timeout 90 "$app/ShieldCluster.LoadGen" --model "$model" --wire "$wire" --concurrency "$concurrency" --models "$repo" \
    --server-exe "$app/ShieldCluster.Server" --phases "$phase" --duration "${DURATION:-8}" --warmup "${WARMUP:-8}" \
    --server-env Shield__Inference__Device="${DEVICE:-cuda}" \
    --server-env Logging__LogLevel__ShieldCluster.Access=Warning "${envs[@]}" 2>&1 >/dev/null | grep -E "^\\[$phase\\] [0-9.]+ items/s")
  echo "$name ($settings): $line" | tee -a "$out/variants.txt"
done
done
