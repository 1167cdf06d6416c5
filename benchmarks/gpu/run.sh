#!/usr/bin/env bash
# benchmarks/gpu/run.sh: the GPU benchmark, run on the GPU host from the repository root after
# ../shared/gpu/stage's assemble.sh has unpacked the self-contained server and load generator
# (published together with -p:OrtFlavor=Gpu) into /tmp/app. How to run it: README.md (Benchmarks, GPU) and
# benchmarks/LOADGEN.md (each GPU session, with its exact commands).
#
# usage: benchmarks/gpu/run.sh MODEL:WIRE:CONCURRENCY[:PHASES] ...
#   e.g. resnet50:binary:256 resnet50-fp16:binary:256 resnet50:grpc:256:unprotected,protected
# Writes everything to $OUT (the run tool's result folder) or /tmp/gpu-out. LOADGEN_ARGS: more options for
# the load generator (e.g. '--http-client httpclient'), split at spaces.
set -uo pipefail
app=${APP:-/tmp/app}
out=${OUT:-/tmp/gpu-out}
repo=${GPU_MODELS:-/tmp/gpu-models}
mkdir -p "$out"
# shellcheck disable=SC1091
. "$app/env.sh"
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; echo "cpus: $(nproc)"; free -g | head -2; } > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
if [[ ! -f $repo/resnet50-fp16/config.json ]]; then
  python3 benchmarks/gpu/export_resnet50.py "$repo" 2>&1 | tee "$out/export.log"
fi
ls -la "$repo"/*/1 > "$out/models.txt" 2>&1
common=(--models "$repo" --server-exe "$app/ShieldCluster.Server" --device cuda
  --bare-batch "${BARE_BATCH:-32}" --bare-concurrency "${BARE_CONCURRENCY:-4}"
  --duration "${DURATION:-12}" --warmup "${WARMUP:-12}"
  --server-env Shield__Inference__Device=cuda
  ${BATCHES:+--server-env Shield__Inference__ConcurrentBatches=$BATCHES}
  --server-env Logging__LogLevel__ShieldCluster.Access=Warning)
# shellcheck disable=SC2206
[[ -n ${LOADGEN_ARGS:-} ]] && common+=($LOADGEN_ARGS)
for spec in "$@"; do
  IFS=: read -r model wire concurrency phases <<< "$spec"
  name="$model-$wire-$concurrency"
  echo "=== $name $(date -u +%T)"
  timeout "${RUN_TIMEOUT:-240}" "$app/ShieldCluster.LoadGen" --model "$model" --wire "$wire" --concurrency "$concurrency" \
    --phases "${phases:-${PHASES:-bare,unprotected,protected}}" "${common[@]}" --json-out "$out/$name.json" 2> "$out/$name.err" | tee "$out/$name.txt"
  echo "exit $? at $(date -u +%T)"; tail -5 "$out/$name.err"
done
# the servers' logs, where the load generator left them
find /tmp -maxdepth 3 -name '*.log' -newer "$out/machine.txt" -size -20M 2>/dev/null | head -20 | while read -r f; do cp "$f" "$out/" 2>/dev/null; done
