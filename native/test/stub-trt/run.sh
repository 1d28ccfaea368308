#!/usr/bin/env bash
# Smoke-runs the real addon on a host without TensorRT or a GPU: builds it with node-gyp through
# scripts/build.mjs against real TensorRT headers and stub libnvinfer/libnvonnxparser libraries
# (stub_tensorrt.c: version functions, factories that return NULL), then runs smoke.mjs, which
# checks module init, versions, devices(), option validation, TRT_MODE_REMOVED, the build
# worker's promise/cancel/event plumbing and loadEngine's failure path. Nothing of TensorRT runs.
#
#   TENSORRT_INCLUDE=third_party/tensorrt-v11.1/include native/test/stub-trt/run.sh
#
# Everything is built in a temporary folder (removed afterwards); native/build is never touched, so
# the loader never finds a stub-linked binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
native="$(cd "$here/../.." && pwd)"
[ -n "${TENSORRT_INCLUDE:-}" ] || { echo "set TENSORRT_INCLUDE to a folder with NvInfer.h" >&2; exit 2; }
include="$(cd "$TENSORRT_INCLUDE" && pwd)"
version="$(node --input-type=module -e "
  import { readTrtVersion } from '$native/scripts/trt-probe.mjs';
  import { readFileSync } from 'node:fs';
  const v = readTrtVersion(readFileSync('$include/NvInferVersion.h', 'utf8'));
  console.log([v.major, v.minor, v.patch, v.build].join(' '));")"
read -r major minor patch build <<<"$version"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/trt/lib" "$work/native"
ln -s "$include" "$work/trt/include"
for lib in nvinfer nvonnxparser; do
  cc -shared -fPIC -o "$work/trt/lib/lib$lib.so.$major" -Wl,-soname,"lib$lib.so.$major" \
    -DSTUB_MAJOR="$major" -DSTUB_MINOR="$minor" -DSTUB_PATCH="$patch" -DSTUB_BUILD="$build" "$here/stub_tensorrt.c"
  ln -s "lib$lib.so.$major" "$work/trt/lib/lib$lib.so"
done
cp -r "$native/binding.gyp" "$native/package.json" "$native/src" "$native/scripts" "$work/native/"
ln -s "$native/node_modules" "$work/native/node_modules"

TENSORRT_ROOT="$work/trt" node "$work/native/scripts/build.mjs" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
grep '@trtforge/native' "$work/build.log"
echo "node-gyp: $(grep -c ': warning:' "$work/build.log" || true) compiler warnings, $(grep -c ': error:' "$work/build.log" || true) errors"
[ -z "${SHOW_BUILD_LOG:-}" ] || cat "$work/build.log"
node "$here/smoke.mjs" "$work/native/build/Release/trtforge_trt$major.node" "$major.$minor.$patch.$build"
node "$here/../option-table/run-against.mjs" "$work/native/build/Release/trtforge_trt$major.node"
