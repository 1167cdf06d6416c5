#!/usr/bin/env bash
# benchmarks/gpu/all.sh: one GPU-host session's measurements in one command, packed into one file
# ($OUT/results.tgz: the run tool returns at most 8 files). Samples GPU utilisation every second
# (gpu-util.csv) while it runs run.sh with the given specs, then, where VARIANTS is set
# ('MODEL WIRE CONCURRENCY NAME=K=V+K=V ...'), variants.sh.
# usage (on the host, after assemble.sh): [SHIELD_STAGE_TIMINGS=1] [VARIANTS='...'] benchmarks/gpu/all.sh SPEC ...
set -uo pipefail
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out/r"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 1 > "$out/r/gpu-util.csv" 2>&1 &
sampler=$!
OUT=$out/r bash benchmarks/gpu/run.sh "$@"
if [[ -n ${VARIANTS:-} ]]; then
  # shellcheck disable=SC2086
  OUT=$out/r bash benchmarks/gpu/variants.sh $VARIANTS
  find /tmp -maxdepth 1 -name 'shield-loadgen-*.log' -newer "$out/r/machine.txt" -size -20M -exec cp {} "$out/r/" \; 2>/dev/null
fi
kill "$sampler" 2>/dev/null
tar -C "$out/r" -czf "$out/results.tgz" . && rm -rf "$out/r"
ls -la "$out"
