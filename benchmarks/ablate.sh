#!/bin/bash
# What each part of protection costs: the generator's closed loop (protection off, then on) run once
# per configuration per round, the configurations in a rotating order, so that the VM's drift from
# minute to minute falls on every configuration alike. Each configuration is a name and the server
# settings it changes (applied to both servers; those under Shield:Protection and Shield:Detection
# change only the protected one):
#   benchmarks/ablate.sh ROUNDS NAME[=KEY=VALUE[,KEY=VALUE...]] ...
#   benchmarks/ablate.sh 3 default nosqueeze=Shield__Protection__Squeezing=Never \
#     nocross=Shield__Detection__CrossClientQueue=1 clientbl1=Shield__Detection__Blacklight__IndexCapacity=1
# Reports go to ${ABLATE_DIR:-/tmp/ablate}/NAME-ROUND.json; at the end, per configuration, the ratio
# (protected / unprotected throughput) and the server CPU added per request, each round and median.
# ABLATE_REPORT_ONLY=1 prints the table again from the reports there. ABLATE_DURATION and ABLATE_WARMUP
# (seconds, default 20 and 30) set the phases' lengths, ABLATE_CONCURRENCY the connections (32),
# ABLATE_GENERATOR the generator's DLL. Build first: dotnet build -c Release
# benchmarks/ShieldCluster.LoadGen. Needs jq.
set -euo pipefail
rounds=${1:?usage: benchmarks/ablate.sh ROUNDS NAME[=KEY=VALUE,...] ...}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ablate.sh: ROUNDS is a positive number (got '$rounds')" >&2; exit 2; }
shift
[ $# -ge 1 ] || { echo "ablate.sh: give at least one configuration" >&2; exit 2; }
command -v jq > /dev/null || { echo "ablate.sh: jq is needed (apt-get install jq)" >&2; exit 2; }
cd "$(dirname "$0")/.."
dir=${ABLATE_DIR:-/tmp/ablate}
generator=${ABLATE_GENERATOR:-benchmarks/ShieldCluster.LoadGen/bin/Release/net10.0/linux-x64/ShieldCluster.LoadGen.dll}

names=()
declare -A settings
for spec in "$@"; do
  name=${spec%%=*}
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "ablate.sh: a configuration's name is letters, digits, - and _ (got '$name')" >&2; exit 2; }
  names+=("$name")
  settings[$name]=""
  if [[ "$spec" == *=* ]]; then
    IFS=',' read -r -a pairs <<< "${spec#*=}"
    for kv in "${pairs[@]}"; do
      [[ "$kv" == *=* ]] || { echo "ablate.sh: '$kv' in $name is not KEY=VALUE" >&2; exit 2; }
      settings[$name]+=" --server-env $kv"
    done
  fi
done

[ -f "$generator" ] || [ "${ABLATE_REPORT_ONLY:-0}" != 0 ] \
  || { echo "ablate.sh: $generator is missing: dotnet build -c Release benchmarks/ShieldCluster.LoadGen" >&2; exit 2; }
mkdir -p "$dir"
count=${#names[@]}
# ABLATE_REPORT_ONLY=1: the table from the reports already in the directory.
for ((round = 1; round <= rounds && ${ABLATE_REPORT_ONLY:-0} == 0; round++)); do
  for ((k = 0; k < count; k++)); do
    name=${names[$(( (k + round - 1) % count ))]}
    echo "round $round, $name ($(date +%T))" >&2
    # shellcheck disable=SC2086 # the settings are separate words on purpose
    dotnet "$generator" --duration "${ABLATE_DURATION:-20}" --warmup "${ABLATE_WARMUP:-30}" --concurrency "${ABLATE_CONCURRENCY:-32}" \
      --phases unprotected,protected ${settings[$name]} --json-out "$dir/$name-$round.json" > "$dir/$name-$round.txt" 2>&1 \
      || { echo "ablate.sh: $name round $round failed; see $dir/$name-$round.txt" >&2; exit 1; }
  done
done

median() { sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "| configuration | ratio by round | median ratio | server CPU added, µs/request by round | median added |"
echo "|---|---|---:|---|---:|"
for name in "${names[@]}"; do
  # One line per round: the report's own ratio, and the µs added (protected minus unprotected server
  # CPU per request).
  rows=$(for ((round = 1; round <= rounds; round++)); do
    jq -r '[(.ratios[] | select(.name == "protected / unprotected throughput") | .value),
            ([.phases[] | {(.name): .cpu.serverCpuMsPerRequest}] | add | (.protected - .unprotected) * 1000)] | @tsv' "$dir/$name-$round.json"
  done)
  ratios=$(cut -f1 <<< "$rows" | awk '{printf "%s%.3f", (NR > 1 ? ", " : ""), $1}')
  added=$(cut -f2 <<< "$rows" | awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}')
  echo "| $name | $ratios | $(cut -f1 <<< "$rows" | median | xargs printf '%.3f') | $added | $(cut -f2 <<< "$rows" | median | xargs printf '%.0f') |"
done
