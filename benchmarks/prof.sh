#!/bin/bash
# Profiles the server under the load generator's closed loop with perf (run as root, perf installed):
#   benchmarks/prof.sh NAME [load generator options, e.g. --phases protected]
# Writes /tmp/NAME.loadgen (the report), /tmp/NAME.data (perf), /tmp/NAME.self and /tmp/NAME.children
# (symbols by self and by children time) and prints the time by library. The server runs with
# DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0: without the second, JIT code runs from a
# double mapping perf cannot name ("memfd:doublemapper"). perf records 15 s from 45 s in
# (warmup 25 s, window 30 s). Build first: dotnet build -c Release benchmarks/ShieldCluster.LoadGen
set -euo pipefail
name=${1:?usage: benchmarks/prof.sh NAME [load generator options]}
shift
cd "$(dirname "$0")/.."
dotnet benchmarks/ShieldCluster.LoadGen/bin/Release/net10.0/linux-x64/ShieldCluster.LoadGen.dll \
  --duration 30 --warmup 25 --concurrency 32 \
  --server-env DOTNET_PerfMapEnabled=1 --server-env DOTNET_EnableWriteXorExecute=0 "$@" > "/tmp/$name.loadgen" 2>&1 &
loadgen=$!
sleep 45
pid=$(pgrep -f 'ShieldCluster.Server.dll' | head -1 || true)
if [ -z "$pid" ]; then
  echo "prof.sh: no ShieldCluster.Server.dll process 45 s in; the generator's output is in /tmp/$name.loadgen" >&2
  kill "$loadgen" 2>/dev/null || true
  exit 1
fi
perf record -F 499 -g -p "$pid" -o "/tmp/$name.data" -- sleep 15 > /dev/null 2>&1
wait "$loadgen"
perf report -i "/tmp/$name.data" --no-children --sort symbol -g none --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -100 > "/tmp/$name.self" || true
perf report -i "/tmp/$name.data" --children --sort symbol -g none --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -200 > "/tmp/$name.children" || true
perf report -i "/tmp/$name.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8
grep -E '^\| (bare|unprotected|protected)' "/tmp/$name.loadgen" | head -8
