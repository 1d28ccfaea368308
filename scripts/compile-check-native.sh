#!/usr/bin/env bash
# Compiles every native/src/*.cc to an object file (never links, never runs) against a set of
# TensorRT headers, to prove the addon's one source tree compiles for that TensorRT major.
#
#   TENSORRT_INCLUDE=third_party/tensorrt-v10.16/include scripts/compile-check-native.sh
#   TENSORRT_INCLUDE=third_party/tensorrt-v11.1/include  scripts/compile-check-native.sh
#
# TENSORRT_INCLUDE  (required) folder with NvInfer.h, NvInferVersion.h and NvOnnxParser.h
# CUDA_INCLUDE      folder with cuda_runtime_api.h (default /usr/local/cuda/include)
# NODE_INCLUDE      folder with node_api.h (default /usr/include/node, else the running node's)
# CXX               compiler (default g++)
# Warnings are allowed (deprecated-declarations on 10.x is expected); any error fails. The header
# folders are -isystem, so the warnings counted are those of native/src (including deprecation
# warnings at our call sites), not the hundreds inside TensorRT's own headers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ -z "${TENSORRT_INCLUDE:-}" ]; then
  echo "compile-check-native: set TENSORRT_INCLUDE to a folder with NvInfer.h and NvOnnxParser.h" >&2
  exit 2
fi
trt_include="$(cd "$TENSORRT_INCLUDE" && pwd)"
for header in NvInfer.h NvInferVersion.h NvOnnxParser.h; do
  [ -f "$trt_include/$header" ] || { echo "compile-check-native: $trt_include has no $header" >&2; exit 2; }
done

cuda_include="${CUDA_INCLUDE:-/usr/local/cuda/include}"
[ -f "$cuda_include/cuda_runtime_api.h" ] || {
  echo "compile-check-native: no cuda_runtime_api.h in $cuda_include (set CUDA_INCLUDE)" >&2; exit 2; }

node_include="${NODE_INCLUDE:-}"
if [ -z "$node_include" ]; then
  if [ -f /usr/include/node/node_api.h ]; then
    node_include=/usr/include/node
  else
    node_include="$(node -p 'require("path").resolve(process.execPath, "..", "..", "include", "node")')"
  fi
fi
[ -f "$node_include/node_api.h" ] || { echo "compile-check-native: no node_api.h in $node_include (set NODE_INCLUDE)" >&2; exit 2; }

napi_include="$(cd "$root/native" && node -p 'require("node-addon-api").include_dir')"
napi_include="$(cd "$root/native" && cd "$napi_include" && pwd)"
[ -f "$napi_include/napi.h" ] || {
  echo "compile-check-native: node-addon-api is not installed in native/ (run pnpm install)" >&2; exit 2; }

# The version the headers declare (10.12+ defines NV_TENSORRT_* through TRT_*_ENTERPRISE).
version_of() {
  local field="$1" value
  value="$(awk -v f="$field" '$1 == "#define" && $2 == "NV_TENSORRT_" f { print $3 }' "$trt_include/NvInferVersion.h")"
  case "$value" in
    ''|*[!0-9]*) value="$(awk -v f="$value" '$1 == "#define" && $2 == f { print $3 }' "$trt_include/NvInferVersion.h")" ;;
  esac
  echo "$value"
}
major="$(version_of MAJOR)"; minor="$(version_of MINOR)"; patch="$(version_of PATCH)"; build="$(version_of BUILD)"
[ -n "$major" ] || { echo "compile-check-native: cannot read NV_TENSORRT_MAJOR from $trt_include/NvInferVersion.h" >&2; exit 2; }

cxx="${CXX:-g++}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "compile-check-native: TensorRT $major.$minor.$patch.$build headers from $trt_include"
echo "compile-check-native: $($cxx --version | head -n1); CUDA headers $cuda_include; Node headers $node_include"

errors=0
warnings=0
files=0
for source in "$root"/native/src/*.cc; do
  files=$((files + 1))
  name="$(basename "$source" .cc)"
  log="$out/$name.log"
  if "$cxx" -std=c++17 -Wall -Wextra -fPIC -O1 -c "$source" -o "$out/$name.o" \
      -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED \
      -DNODE_GYP_MODULE_NAME="trtforge_trt$major" -DTRTFORGE_TRT_MAJOR="$major" \
      -isystem "$trt_include" -isystem "$cuda_include" -isystem "$node_include" -isystem "$napi_include" \
      >"$log" 2>&1; then
    :
  else
    errors=$((errors + $(grep -c ': error:' "$log" || true)))
    [ "$(grep -c ': error:' "$log" || true)" -gt 0 ] || errors=$((errors + 1))
  fi
  file_warnings="$(grep -c ': warning:' "$log" || true)"
  warnings=$((warnings + file_warnings))
  if [ -s "$log" ]; then
    cat "$log"
  fi
done

echo "compile-check-native: TensorRT $major.$minor.$patch.$build: $files files, $errors errors, $warnings warnings"
[ "$errors" -eq 0 ]
