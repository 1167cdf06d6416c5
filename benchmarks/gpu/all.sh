#!/usr/bin/env bash
# benchmarks/gpu/all.sh: one GPU-host session's measurements in one command, packed into one file
# ($OUT/results.tgz, rewritten after every step, so a run stopped at its time limit still returns what
# it measured: the run tool returns at most 8 files). Samples GPU utilisation every 200 ms
# (gpu-util.csv; GPU_SAMPLE_MS to change) and the busiest threads every 15 s (top.txt) while it runs
# run.sh once per spec, with the servers' STAGES lines (SHIELD_STAGE_TIMINGS=1) every second unless
# SHIELD_STAGE_TIMINGS_PERIOD_MS says otherwise,
# then, where VARIANTS is set ('MODEL WIRE CONCURRENCY NAME=K=V+K=V ...', several such groups
# separated by ';'), variants.sh once per group.
# usage (on the host, after assemble.sh): [SHIELD_STAGE_TIMINGS=1] [VARIANTS='...'] [VARIANTS_FIRST=1] benchmarks/gpu/all.sh SPEC ...
set -uo pipefail
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out/r" && touch "$out/r/started"
export SHIELD_STAGE_TIMINGS_PERIOD_MS=${SHIELD_STAGE_TIMINGS_PERIOD_MS:-1000}
query=(--query-gpu=timestamp,utilization.gpu,memory.used --format=csv)
# A millisecond loop runs until it is stopped; an nvidia-smi without one exits at once: then every second.
loop=(-lms "${GPU_SAMPLE_MS:-200}")
timeout 1 nvidia-smi "${query[@]}" "${loop[@]}" > /dev/null 2>&1; [[ $? == 124 ]] || loop=(-l 1)
nvidia-smi "${query[@]}" "${loop[@]}" > "$out/r/gpu-util.csv" 2>&1 &
sampler=$!
while sleep 15; do { date -u +%T; top -b -n 1 -H -w 200 | head -40; } >> "$out/r/top.txt" 2>&1; done &
threads=$!
pack() {
  find /tmp -maxdepth 1 -name 'shield-loadgen-*.log' -newer "$out/r/started" -size -20M -exec cp {} "$out/r/" \; 2>/dev/null
  tar -C "$out/r" -czf "$out/results.tgz.new" . && mv "$out/results.tgz.new" "$out/results.tgz"
}
variants() {
  local group groups
  IFS=';' read -ra groups <<< "${VARIANTS:-}"
  for group in "${groups[@]}"; do
    # shellcheck disable=SC2086
    [[ -n ${group// } ]] && OUT=$out/r bash benchmarks/gpu/variants.sh $group
    pack
  done
}
[[ -n ${VARIANTS_FIRST:-} ]] && variants
for spec in "$@"; do
  OUT=$out/r bash benchmarks/gpu/run.sh "$spec"
  pack
done
[[ -z ${VARIANTS_FIRST:-} ]] && variants
kill "$sampler" "$threads" 2>/dev/null
pack
ls -la "$out"
