#!/usr/bin/env bash
# GPU smoke run of the native addon's CUDA paths, for a host with an NVIDIA GPU, the driver and a
# CUDA toolkit (nvcc, compute-sanitizer) but no TensorRT. Not part of CI (CI has no GPU).
#
#  1. builds the stub TensorRT libraries: libnvinfer.so.<major> from stub_tensorrt.c plus
#     stub_runtime.cu (a runtime whose engines run a CUDA kernel), libnvonnxparser.so.<major>;
#  2. builds the real addon (native/scripts/build.mjs, node-gyp) against the TensorRT headers and
#     the stub, in a temporary copy of native/ (native/build is never touched);
#  3. writes a stub plan declaring the I/O tensors of a published all-MiniLM-L6-v2 engine
#     (native/test/stub-trt/minilm-fp32.metadata.json);
#  4. runs native/test/stub-trt/gpu-smoke.mjs plainly, then under compute-sanitizer --tool
#     memcheck (and again with --leak-check full for the main process), racecheck, initcheck and
#     synccheck, each failing on any
#     reported error; and once more with CUDA_VISIBLE_DEVICES pinned to the first GPU's UUID;
#  5. runs native/test/stub-trt/gpu-runtime-smoke.mjs: the same stub engine published to a store and
#     served through @trtforge/runtime (the layer serve-engine's workers use: the verified-load gate
#     against this GPU, tokenization of real articles, run, the dynamic batcher, hot swap), plainly
#     and under each sanitizer tool;
#  6. compares @trtforge/gpu-metrics' NVML figures with nvidia-smi's (scripts/gpu-metrics-check.mjs).
#
#   TENSORRT_INCLUDE=third_party/tensorrt-v10.16/include scripts/gpu-smoke.sh [log file]
#
# Environment: GPU_SMOKE_COMMIT (the commit to log where the tree is no git checkout), TENSORRT_INCLUDE (default third_party/tensorrt-v10.16/include), CUDA_HOME (default
# /usr/local/cuda), NODE (default: node on PATH; Node 20.19+), CUDA_ARCHS (nvcc -gencode list,
# default sm_80, sm_90 and compute_90 PTX), SANITIZER_TOOLS (default "memcheck racecheck initcheck
# synccheck"), GPU_SMOKE_WORK (keep the build there instead of a temporary folder), RUNTIME_DIR
# (default packages/runtime; scripts/gpu-carry.sh packs a copy with its dependencies), TOKENIZER_DIR
# (default .tools/models/all-MiniLM-L6-v2), GPU_METRICS_DIR (default packages/gpu-metrics),
# GPU_SMOKE_BUILD_ONLY (stop after steps 1-2, e.g. with GPU_SMOKE_WORK, for scripts/gpu-serve.sh). The log (default
# logs/gpu-smoke-<UTC date>.log) holds the commands, versions of Node, driver, CUDA, the GPU, and
# every tool's report. Exit status 0 only when every step passed with zero sanitizer errors.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
stub="$root/native/test/stub-trt"
include="$(cd "${TENSORRT_INCLUDE:-$root/third_party/tensorrt-v10.16/include}" && pwd)"
cuda="${CUDA_HOME:-/usr/local/cuda}"
node_bin="${NODE:-$(command -v node)}"
archs="${CUDA_ARCHS:--gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]}"
tools="${SANITIZER_TOOLS-memcheck racecheck initcheck synccheck}"
log="${1:-$root/logs/gpu-smoke-$(date -u +%Y-%m-%d).log}"
sanitizer="$cuda/bin/compute-sanitizer"
[ -x "$sanitizer" ] || sanitizer="$(command -v compute-sanitizer || true)"
[ -n "$sanitizer" ] || [ -z "$tools" ] || { echo "compute-sanitizer not found (CUDA_HOME=$cuda)" >&2; exit 2; }
[ -x "$node_bin" ] || { echo "node not found: set NODE" >&2; exit 2; }
[ -f "$include/NvInfer.h" ] || { echo "no NvInfer.h in $include: set TENSORRT_INCLUDE" >&2; exit 2; }
mkdir -p "$(dirname "$log")"
: >"$log"

if [ -n "${GPU_SMOKE_WORK:-}" ]; then
  work="$GPU_SMOKE_WORK"
  rm -rf "$work"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
say() { echo "$*" | tee -a "$log"; }
# Runs a command, its command line and output into the log; returns its status.
step() {
  say "\$ $*"
  local status=0
  "$@" >>"$log" 2>&1 || status=$?
  say "# exit $status"
  return "$status"
}

say "# trtforge GPU smoke run, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "# git: ${GPU_SMOKE_COMMIT:-$(git -C "$root" rev-parse HEAD 2>/dev/null || echo "not a git checkout")}"
say "# host: $(uname -srm)"
say "# node: $("$node_bin" --version) ($node_bin)"
say "# nvcc: $("$cuda/bin/nvcc" --version | tail -n 2 | tr '\n' ' ')"
[ -z "$sanitizer" ] || say "# compute-sanitizer: $("$sanitizer" --version | grep -i version | head -n 1)"
step nvidia-smi --query-gpu=index,name,uuid,compute_cap,driver_version,memory.total --format=csv || true
step nvidia-smi || true

version="$("$node_bin" --input-type=module -e "
  import { readTrtVersion } from '$root/native/scripts/trt-probe.mjs';
  import { readFileSync } from 'node:fs';
  const v = readTrtVersion(readFileSync('$include/NvInferVersion.h', 'utf8'));
  console.log([v.major, v.minor, v.patch, v.build].join(' '));")"
read -r major minor patch build <<<"$version"
trt="$major.$minor.$patch.$build"
say "# TensorRT headers: $trt ($include); libraries: the stub"

# 1. The stub libraries.
mkdir -p "$work/trt/lib" "$work/stub" "$work/native"
ln -s "$include" "$work/trt/include"
defines=(-DSTUB_MAJOR="$major" -DSTUB_MINOR="$minor" -DSTUB_PATCH="$patch" -DSTUB_BUILD="$build")
step "$node_bin" "$stub/gen-unimplemented.mjs" "$include" "$work/stub/stub_unimplemented.h"
# shellcheck disable=SC2086 # $archs is a list of nvcc options
step "$cuda/bin/nvcc" -std=c++17 -O2 -lineinfo $archs -Xcompiler -fPIC,-Wall,-Wextra -I"$work/stub" -isystem "$include" \
  -c "$stub/stub_runtime.cu" -o "$work/stub/stub_runtime.o"
step cc -std=c11 -O2 -fPIC -Wall -Wextra -DSTUB_GPU_RUNTIME "${defines[@]}" -c "$stub/stub_tensorrt.c" -o "$work/stub/stub_nvinfer.o"
step cc -std=c11 -O2 -fPIC -Wall -Wextra "${defines[@]}" -c "$stub/stub_tensorrt.c" -o "$work/stub/stub_parser.o"
step "$cuda/bin/nvcc" -shared -o "$work/trt/lib/libnvinfer.so.$major" -Xlinker -soname="libnvinfer.so.$major" \
  "$work/stub/stub_runtime.o" "$work/stub/stub_nvinfer.o" -cudart shared
step cc -shared -o "$work/trt/lib/libnvonnxparser.so.$major" -Wl,-soname,"libnvonnxparser.so.$major" "$work/stub/stub_parser.o"
ln -s "libnvinfer.so.$major" "$work/trt/lib/libnvinfer.so"
ln -s "libnvonnxparser.so.$major" "$work/trt/lib/libnvonnxparser.so"

# 2. The addon, through the package's own build script, in a copy of native/.
cp -r "$root/native/binding.gyp" "$root/native/package.json" "$root/native/src" "$root/native/scripts" "$root/native/dist" "$work/native/"
ln -s "$root/native/node_modules" "$work/native/node_modules"
PATH="$(dirname "$node_bin"):$PATH" TENSORRT_ROOT="$work/trt" CUDA_HOME="$cuda" step "$node_bin" "$work/native/scripts/build.mjs"
addon="$work/native/build/Release/trtforge_trt$major.node"
say "# node-gyp: $(grep -c ': warning:' "$log" || true) compiler warnings in this log so far"
step ldd "$addon"
if [ -n "${GPU_SMOKE_BUILD_ONLY:-}" ]; then
  say "# GPU_SMOKE_BUILD_ONLY: the stub libraries and the addon are built in $work; no runs"
  exit 0
fi

# 3. The stub plan from a published engine's metadata.
step "$node_bin" "$stub/make-stub-plan.mjs" "$stub/minilm-fp32.metadata.json" "$trt" "$work/minilm.plan"

# 4. The runs.
program=("$node_bin" --expose-gc "$stub/gpu-smoke.mjs" "$work/native" "$work/minilm.plan" "$stub/minilm-fp32.metadata.json" "$trt")
failed=0
step "${program[@]}" || failed=1
for tool in $tools; do
  step "$sanitizer" --tool "$tool" --error-exitcode 86 --target-processes all "${program[@]}" || failed=1
  if [ "$tool" = memcheck ]; then
    # Leaks of the main process only: the child that calls process.exit() with work queued never
    # runs N-API cleanup hooks (Node's exit handler skips them), so the driver, not the addon,
    # frees its engines, and a leak check of it would report exactly that.
    step "$sanitizer" --tool memcheck --leak-check full --error-exitcode 86 --target-processes application-only "${program[@]}" || failed=1
  fi
done
uuid="$(nvidia-smi --query-gpu=uuid --format=csv,noheader 2>/dev/null | head -n 1 || true)"
if [ -n "$uuid" ]; then
  say "# pinned by UUID as the supervisor pins workers: CUDA_VISIBLE_DEVICES=$uuid"
  CUDA_VISIBLE_DEVICES="$uuid" EXPECT_GPU_UUID="$uuid" step "${program[@]}" || failed=1
  say "# pinned by index: CUDA_VISIBLE_DEVICES=0"
  CUDA_VISIBLE_DEVICES=0 EXPECT_GPU_UUID="$uuid" step "${program[@]}" || failed=1
fi
say "# no device visible: CUDA_VISIBLE_DEVICES=-1, devices() must be []"
CUDA_VISIBLE_DEVICES=-1 step "$node_bin" -e "
  const d = require(process.argv[1]).devices();
  console.log(JSON.stringify(d));
  if (d.length !== 0) process.exit(1);" "$addon" || failed=1
# 5. The runtime layer on the same stub engine.
runtime_dir="${RUNTIME_DIR:-$root/packages/runtime}"
tokenizer_dir="${TOKENIZER_DIR:-$root/.tools/models/all-MiniLM-L6-v2}"
if [ -f "$runtime_dir/dist/index.js" ] && [ -f "$tokenizer_dir/tokenizer.json" ]; then
  runtime_program=("$node_bin" --expose-gc "$stub/gpu-runtime-smoke.mjs" --runtime "$runtime_dir" --native "$work/native"
    --tokenizer "$tokenizer_dir" --articles "$root/data/ag_news/test.csv" --metadata "$stub/minilm-fp32.metadata.json"
    --plan-version "$trt")
  step "${runtime_program[@]}" || failed=1
  for tool in $tools; do
    step "$sanitizer" --tool "$tool" --error-exitcode 86 --target-processes all "${runtime_program[@]}" || failed=1
  done
else
  say "# runtime layer not run: no $runtime_dir/dist/index.js or no $tokenizer_dir/tokenizer.json (set RUNTIME_DIR, TOKENIZER_DIR)"
  failed=1
fi
# 6. GPU metrics: NVML through @trtforge/gpu-metrics against nvidia-smi.
gpu_metrics_dir="${GPU_METRICS_DIR:-$root/packages/gpu-metrics}"
if [ -f "$gpu_metrics_dir/dist/index.js" ]; then
  GPU_METRICS_DIR="$gpu_metrics_dir" step "$node_bin" "$root/scripts/gpu-metrics-check.mjs" || failed=1
else
  say "# $gpu_metrics_dir/dist missing: build it (pnpm exec tsc -b) or set GPU_METRICS_DIR to check the GPU metrics"
  failed=1
fi
# Read whole before appending: grep must not read the lines it adds to the same file.
summaries="$(grep -E '^========= (ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY)' "$log" || true)"
say "# sanitizer summaries:"
say "$summaries"
if [ "$failed" -ne 0 ]; then
  say "# GPU SMOKE RUN FAILED (see above)"
  exit 1
fi
say "# GPU SMOKE RUN PASSED"
