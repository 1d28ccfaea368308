#!/usr/bin/env bash
# On the GPU host, from the kit scripts/gpu-ort-carry.sh packed (issue 23): Node, the CLI, the store,
# ONNX Runtime's CUDA provider. Checks the fallback order on the real host (provider absent → CPU with
# ORT_CUDA_PROVIDER_MISSING, and GPU_REQUIRED under --require-gpu; provider present but the CUDA
# libraries off the loader's path → CUDA_LIBRARIES_MISSING; everything present → cuda), serves with
# serve-engine on the GPU and checks it with the real tritonclient, then runs benchmarks/serve-gpu.mjs
# (serving, restart, drain, in-process floor) and benchmarks/serve_torch_gpu.py (PyTorch eager fp32 and
# fp16, and the cosine of what was served). Everything it writes goes to $OUT (default ./gpu-ort-out).
#
#   KIT_PARTS=/root/kit SCRIPTS=<folder with this script's companions> bash scripts/gpu-ort-serve.sh
set -uo pipefail
scripts="${SCRIPTS:-$(cd "$(dirname "$0")" && pwd)}"
parts="${KIT_PARTS:-/root/kit}"
out="${OUT:-$PWD/gpu-ort-out}"
mkdir -p "$out"
log="$out/gpu-ort-serve.log"
exec > >(tee -a "$log") 2>&1
step() { echo "### $(date -u +%H:%M:%S) $*"; }

step "reassembling the kit"
work=/root/gpuort
rm -rf "$work" && mkdir -p "$work"
cat "$parts"/kit.part-* >"$work/kit.tar"
want="$(cat "$scripts/kit.sha256")"
got="$(sha256sum "$work/kit.tar" | cut -d' ' -f1)"
[ "$want" = "$got" ] || { echo "kit sha256 $got, expected $want"; exit 1; }
tar -C "$work" -xf "$work/kit.tar" && rm "$work/kit.tar"
k="$work/kit"
tar -C "$work" -xJf "$k/node-lts.tar.xz"
tar -C "$work" -xJf "$k/cli.tar.xz"
mkdir -p "$work/store" && tar -C "$work/store" -xf "$k/store.tar"
chmod +x "$k/zstd"
mkdir -p "$work/libs" && "$k/zstd" -dc "$k/ort-cuda.tar.zst" | tar -C "$work/libs" -xf -
export PATH="$work/bin:$PATH" NODE="$work/bin/node"
cli="$work/cli"
store="$work/store"
ort="$(ls -d "$cli"/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$k"/tritonclient/*.whl
export PYTHONPATH=/tmp/site

step "host"
nvidia-smi --query-gpu=index,name,uuid,compute_cap,driver_version,memory.used,memory.total --format=csv
nvidia-smi | sed -n 's/.*\(CUDA Version: [0-9.]*\).*/\1/p'
node --version
site="$(python3 -c 'import site; print(site.getsitepackages()[0])')"
cudalibs="$site/nvidia/cu13/lib:$site/nvidia/cudnn/lib:/usr/local/cuda/lib64"
ls "$site/nvidia/cu13/lib" | head -30

if [ -z "${QUICK:-}" ]; then
fallback() { node "$scripts/gpu-fallback-check.mjs" --cli "$cli" --store-root "$store" --agent trt-embeddings "$@" | tee -a "$out/fallback.jsonl"; }
step "fallback order 1: provider absent"
LD_LIBRARY_PATH="$cudalibs" fallback --label provider-absent
LD_LIBRARY_PATH="$cudalibs" fallback --label provider-absent-require-gpu --require-gpu
step "installing the provider with scripts/setup-ort-cuda.sh (CUDA from the driver)"
bash "$scripts/setup-ort-cuda.sh" --ort-root "$ort" --from-dir "$work/libs"
bash "$scripts/setup-ort-cuda.sh" --ort-root "$ort" --from-dir "$work/libs"
step "fallback order 2: provider present, CUDA libraries not on the loader's path"
LD_LIBRARY_PATH= fallback --label cuda-libraries-absent
step "fallback order 3: everything present"
export LD_LIBRARY_PATH="$cudalibs"
fallback --label cuda
step "build-engine --check-only"
TRTFORGE_ROOT="$scripts/.." node "$cli/bin/build-engine.js" --check-only 2>&1 | tee "$out/hostcheck.txt"

step "serve-engine on the GPU + tritonclient"
node "$cli/bin/serve-engine.js" --store-root "$store" --model trt-embeddings --http-port 8000 --metrics-port 8002 --require-gpu --onnx-variant gpu --json >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
for _ in $(seq 1 600); do curl -sf localhost:8000/v2/health/ready >/dev/null 2>&1 && break; sleep 0.1; done
version="$(basename "$(readlink "$store/trt-embeddings/current")")"
python3 "$scripts/tritonclient_check.py" --url 127.0.0.1:8000 --model trt-embeddings --version-dir "$store/trt-embeddings/versions/$version" \
  --articles "$scripts/../data/ag_news/test.csv" --count 16 --min-cosine 0.999 --max-abs-diff 0.01 | tee "$out/tritonclient.json"
curl -s localhost:8002/metrics | grep -E '^trtforge_(model_info|model_fallback|gpu_memory_used)' | tee -a "$log"
kill -TERM $spid; wait $spid; echo "serve-engine exit $?"
tail -5 "$work/serve.err"

else  # QUICK: only the provider, then the benchmark
bash "$scripts/setup-ort-cuda.sh" --ort-root "$ort" --from-dir "$work/libs"
export LD_LIBRARY_PATH="$cudalibs"
fi

step "benchmark: serve-engine, restart, drain, floor"
node "$scripts/serve-gpu.mjs" --cli "$cli" --store-root "$store" --agent trt-embeddings --texts "$k/articles.jsonl" \
  --out "$out/serve-gpu.json" --emb-out "$work/served.f32" --text128-out "$work/text128.txt" 2> >(grep -v '"level":30' >&2)
[ -n "${QUICK:-}" ] && { step "done (QUICK)"; exit 0; }
step "benchmark: PyTorch eager fp32/fp16 and the served embeddings' cosine"
python3 "$scripts/serve_torch_gpu.py" --model "$k/hf-model" --texts "$k/articles.jsonl" \
  --text128 "$work/text128.txt" --served "$work/served.f32" --out "$out/torch-gpu.json" | tail -c 3000
step "done"
