#!/usr/bin/env bash
# The H100 refusal of a TensorRT-RTX plan (issue 22): reassemble the libs, then try to deserialize.
# Kit layout (next to this script, sent through the device tool's carry; the libs are larger than one
# call may carry, so the first call leaves part00 in /root/kit): part01 (the rest of
# libtensorrt_rtx.so.1 from tensorrt-rtx-cu12-libs 1.7.1.116, xz-compressed and split at 35,000,000
# bytes), sums.txt (sha256 of the whole .xz), libs/parser.xz and libs/__init__.py (the same wheel),
# the cp312 tensorrt-rtx-cu12-bindings wheel, py/ (python/trtforge_trtrtx and
# trtforge_export/{__init__,protocol}.py), and the plans tiny-default.plan, tiny-8-6.plan,
# tiny-12-0.plan with tiny.onnx (packages/engine-format/test/fixtures holds the first two and the ONNX).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
log="$OUT/h100-trtrtx-refusal.log"
exec > >(tee "$log") 2>&1
echo "== $(date -u +%FT%TZ) host $(hostname)"
nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv
python3 --version
site=/tmp/site
mkdir -p "$site/tensorrt_rtx_libs"
cat /root/kit/part00 "$here/part01" > /tmp/librtx12.xz
sha256sum /tmp/librtx12.xz
grep -q "$(sha256sum /tmp/librtx12.xz | cut -d' ' -f1)" "$here/sums.txt" || { echo "kit checksum mismatch"; exit 1; }
xz -dc /tmp/librtx12.xz > "$site/tensorrt_rtx_libs/libtensorrt_rtx.so.1"
sha256sum "$site/tensorrt_rtx_libs/libtensorrt_rtx.so.1"
xz -dc "$here/libs/parser.xz" > "$site/tensorrt_rtx_libs/libtensorrt_onnxparser_rtx.so.1"
cp "$here/libs/__init__.py" "$site/tensorrt_rtx_libs/"
python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" "$here"/*.whl || exit 1
export PYTHONPATH="$site:$here/py" PYTHONUNBUFFERED=1
for plan in tiny-default tiny-8-6 tiny-12-0; do
  echo "== load $plan.plan (target byte $(xxd -s 32 -l 1 -p "$here/$plan.plan"))"
  python3 -m trtforge_trtrtx load --plan "$here/$plan.plan"
  echo "exit status $?"
done
echo "== build tiny.onnx on this GPU with the default targets, then load it"
python3 -m trtforge_trtrtx build --onnx "$here/tiny.onnx" --out /tmp/h100-default.plan --precision fp32 \
  --profile '[{"input":"input_ids","min":[1,1],"opt":[2,8],"max":[4,16]}]' | grep -v '"progress"'
echo "exit status $?"
[ -f /tmp/h100-default.plan ] && xxd -l 40 /tmp/h100-default.plan && python3 -m trtforge_trtrtx load --plan /tmp/h100-default.plan
echo "== done $(date -u +%FT%TZ)"
