#!/usr/bin/env bash
# benchmarks/gpu/batch64.sh: whose is the collapse at max_batch_size 64 (session 20: about 3,000
# images/s against 12,700 at 32, seconds-long stalls, the server mostly idle), ONNX Runtime's or the
# server's? Bare ONNX Runtime at batch 32 and 64 (4 concurrent Run calls each, alternating), then the
# unprotected server on a copy of the repository at max_batch_size 64 under variants of the CUDA
# settings (variants.sh, PHASES=unprotected). Run on the GPU host after assemble.sh, like run.sh.
# usage: [DURATION=s] [WARMUP=s] [DEVICE=cpu] benchmarks/gpu/batch64.sh [MODEL]   (default resnet50-fp16; DEVICE=cpu tries it on a CPU)
set -uo pipefail
app=${APP:-/tmp/app}; out=${OUT:-/tmp/gpu-out}; repo=${GPU_MODELS:-/tmp/gpu-models}
model=${1:-resnet50-fp16}; repo64=$repo-64
mkdir -p "$out"
# shellcheck disable=SC1091
. "$app/env.sh"
[[ -f $repo/$model/config.json ]] || python3 benchmarks/gpu/export_resnet50.py "$repo" > "$out/export.log" 2>&1
rm -rf "$repo64" && cp -r "$repo" "$repo64"
for config in "$repo64"/*/config.json; do
  python3 - "$config" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
if config.get("max_batch_size", 0) > 1:
    config["max_batch_size"] = 64
    config.setdefault("dynamic_batching", {})["preferred_batch_size"] = [64]
json.dump(config, open(path, "w"), indent=2)
PY
done
grep -h '"max_batch_size"' "$repo64"/*/config.json | tee "$out/batch64.txt"
for batch in 32 64 32 64; do
  line=$(timeout 60 "$app/ShieldCluster.LoadGen" --model "$model" --models "$repo" --phases bare --device "${DEVICE:-cuda}" \
    --bare-batch "$batch" --bare-concurrency 4 --duration "${DURATION:-8}" --warmup "${WARMUP:-8}" 2>&1 >/dev/null | grep -E '^\[bare-ort\] [0-9.]+ items/s')
  echo "bare batch $batch: $line" | tee -a "$out/batch64.txt"
done
PHASES=unprotected GPU_MODELS=$repo64 OUT=$out bash benchmarks/gpu/variants.sh "$model" binary 512 default=none \
  heuristic=Shield__Inference__CudnnConvAlgoSearch=HEURISTIC calls1=Shield__Inference__ConcurrentBatches=1 \
  nopad=Shield__Inference__PadBatches=Never pageable=Shield__Inference__PinnedInputs=false spin=Shield__Inference__CudaBlockingSync=false
