#!/usr/bin/env bash
# serve-engine on a GPU host with TensorRT stubbed (issue 14): builds the stub TensorRT libraries
# and the addon through scripts/gpu-smoke.sh (GPU_SMOKE_BUILD_ONLY: its runs are its own job),
# then runs scripts/gpu-serve-check.mjs against the real serve-engine CLI: one worker per GPU of a
# device map, models where the map puts them, a model on two GPUs, a worker killed and restarted,
# SIGTERM releasing every GPU. Works on any number of GPUs (with one, every model is on GPU 0).
#
#   CLI_DIR=<packages/cli or a deployed copy> TOKENIZER_DIR=<model folder> \
#     TENSORRT_INCLUDE=third_party/tensorrt-v10.16/include scripts/gpu-serve.sh [log file]
#
# Environment as for gpu-smoke.sh (NODE, CUDA_HOME, TENSORRT_INCLUDE), plus CLI_DIR (default
# packages/cli), TOKENIZER_DIR (default .tools/models/all-MiniLM-L6-v2) and SUMMARY (the check's
# JSON summary; default beside the log). scripts/gpu-carry.sh packs what a host without Node needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
node_bin="${NODE:-$(command -v node)}"
log="${1:-$root/logs/gpu-serve-$(date -u +%Y-%m-%d).log}"
summary="${SUMMARY:-${log%.log}.json}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$log")"

GPU_SMOKE_BUILD_ONLY=1 SANITIZER_TOOLS="" GPU_SMOKE_WORK="$work/build" bash "$root/scripts/gpu-smoke.sh" "$work/build.log" >/dev/null || {
  cat "$work/build.log" >"$log"
  echo "the addon build (scripts/gpu-smoke.sh GPU_SMOKE_BUILD_ONLY=1) failed; its log is in $log" >&2
  exit 1
}
trt="$(sed -n 's/^# TensorRT headers: \([0-9.]*\) .*/\1/p' "$work/build.log")"
addon="$(ls "$work/build/native/build/Release/"trtforge_trt*.node)"
{
  echo "# trtforge serve-engine GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  grep -E '^# (git|host|node|nvcc|TensorRT)' "$work/build.log"
  nvidia-smi --query-gpu=index,name,uuid,compute_cap,driver_version,memory.used,memory.total --format=csv
  echo "\$ node scripts/gpu-serve-check.mjs --cli ${CLI_DIR:-$root/packages/cli} --addon $addon --plan-version $trt"
} >"$log"
status=0
"$node_bin" "$root/scripts/gpu-serve-check.mjs" --cli "${CLI_DIR:-$root/packages/cli}" --addon "$addon" --plan-version "$trt" \
  --tokenizer "${TOKENIZER_DIR:-$root/.tools/models/all-MiniLM-L6-v2}" --summary "$summary" >>"$log" 2>&1 || status=$?
nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv >>"$log" 2>&1 || true
echo "# exit $status" >>"$log"
exit "$status"
