#!/usr/bin/env bash
# Runs every test of the solution. Installs what the tests need from Debian's packages when it is
# missing (as root), or says exactly what to install. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] || missing+=(dataset-fashion-mnist)
[[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
# benchmarks/ablate.sh (tests/ShieldCluster.LoadGen.Tests) reads the generator's JSON reports with jq.
command -v jq >/dev/null || missing+=(jq)
# deploy/k8s (tests/ShieldCluster.Deploy.Tests): kubectl renders the kustomizations (Debian's
# kubernetes-client, kubectl 1.20, is enough), node runs the schema validator in deploy/k8s/validate.
kubectl kustomize --help >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# tests/ShieldCluster.Console.Tests: a real headless browser, Debian's chromium, drives the security
# console through the driver that the Microsoft.Playwright package ships; no browser is downloaded.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} (Debian packages the tests need)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# The manifest validator's node packages, exactly as deploy/k8s/validate/package-lock.json pins them.
validator=deploy/k8s/validate
if [[ ! -f $validator/node_modules/.package-lock.json || $validator/package-lock.json -nt $validator/node_modules/.package-lock.json ]]; then
  echo "Installing the manifest validator's node packages (npm ci in $validator)..."
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! command -v dotnet >/dev/null; then
  echo "The tests need the .NET 10 SDK (dotnet) on PATH." >&2
  exit 1
fi

# Playwright must never fetch a browser of its own: the console tests use /usr/bin/chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

exec dotnet test ShieldCluster.sln -c Release "$@"
