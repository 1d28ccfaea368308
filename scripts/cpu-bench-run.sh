#!/usr/bin/env bash
# Runs the serving goal benchmarks from a kit made by scripts/cpu-bench-carry.sh (its kit.part-NN,
# kit.sha256 and zstd in KIT_DIR), on this host's CPUs, and copies the JSON results to OUT:
#   node benchmarks/abuse.mjs --store-root <store> --count 600
#   node benchmarks/perf-analyzer.mjs --store-root <store> --count 128 --requests 64
#   node benchmarks/shadow.mjs --store-root <shadow-store> --primary $SHADOW_PRIMARY --candidate $SHADOW_CANDIDATE
#     (with "shadow" or "all", from a kit made with --shadow-store)
#
#   bash scripts/cpu-bench-run.sh KIT_DIR OUT [abuse|perf|both|shadow|all]
set -euo pipefail
kit_dir="$1" out="$2" which="${3:-both}"
mkdir -p "$out"
cd "$kit_dir"
if [ ! -d kit ]; then
  cat kit.part-* >kit.tar.zst
  echo "$(cat kit.sha256)  kit.tar.zst" | sha256sum -c - >&2
  chmod +x zstd
  ./zstd -dc kit.tar.zst | tar -xf -
  rm -f kit.tar.zst kit.part-*
fi
kit="$(pwd)/kit"
export PATH="$kit/node/bin:$PATH"
cd "$kit/root"
echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version)" >&2
if [ "$which" = abuse ] || [ "$which" = both ] || [ "$which" = all ]; then
  node benchmarks/abuse.mjs --store-root "$kit/store" --count "${ABUSE_COUNT:-600}" ${ABUSE_ARGS:-} --out "$out/abuse.json"
fi
if [ "$which" = perf ] || [ "$which" = both ] || [ "$which" = all ]; then
  node benchmarks/perf-analyzer.mjs --store-root "$kit/store" --count 128 --requests 64
  cp logs/benchmarks/perf-analyzer-*.json "$out/"
fi
if [ "$which" = shadow ] || [ "$which" = all ]; then
  node benchmarks/shadow.mjs --store-root "$kit/shadow-store" --primary "$SHADOW_PRIMARY" --candidate "$SHADOW_CANDIDATE" \
    --count "${SHADOW_COUNT:-300}" --out "$out/shadow.json"
fi
