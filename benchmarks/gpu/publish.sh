#!/usr/bin/env bash
# benchmarks/gpu/publish.sh: builds what the GPU host runs, from a clean copy of a commit (default
# HEAD) so the working tree's build outputs and restore state stay CPU-only: the server and the load
# generator, self-contained, with the CUDA build of ONNX Runtime (-p:OrtFlavor=Gpu), into one folder,
# then stages it with ../shared/gpu/stage (which prints the remote commands).
# usage (repository root): benchmarks/gpu/publish.sh [COMMIT]
set -euo pipefail
commit=${1:-HEAD}
root=$(git rev-parse --show-toplevel)
work=${GPU_WORK:-/tmp/shield-gpu-build}
pub=${GPU_PUB:-/tmp/shield-gpu-pub}
rm -rf "$work" "$pub" && mkdir -p "$work"
git -C "$root" archive "$commit" | tar -x -C "$work"
# The generator first, the server second: where both carry a library, the server's copy must win.
dotnet publish "$work/benchmarks/ShieldCluster.LoadGen" -c Release -r linux-x64 --self-contained -p:OrtFlavor=Gpu -p:LoadGenBuildServer=false -o "$pub" -nologo -v quiet
dotnet publish "$work/src/ShieldCluster.Server" -c Release -r linux-x64 --self-contained -p:OrtFlavor=Gpu -o "$pub" -nologo -v quiet
[[ -x $pub/ShieldCluster.Server && -x $pub/ShieldCluster.LoadGen ]] || { echo "publish: an executable is missing in $pub" >&2; exit 1; }
cd "$root" && "$root/../shared/gpu/stage" "$pub"
