#!/usr/bin/env bash
# Installs ONNX Runtime's CUDA execution provider for the pinned onnxruntime-node: the two libraries
# onnxruntime-node loads from its binding's folder when a session asks for "cuda"
# (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so), of the same ONNX Runtime
# version, placed beside onnxruntime_binding.node. serve-engine then serves models whose engine cannot
# load on the GPU (docs/serving.md, "ONNX Runtime on the GPU").
#
#   scripts/setup-ort-cuda.sh [--cuda 12|13] [--wheel FILE] [--from-dir DIR] [--ort-root DIR] [--dest DIR]
#
# --ort-root: the onnxruntime-node package folder (default: the one packages/runtime resolves);
# --dest: the folder of its binding (default: <ort-root>/bin/napi-v6/linux/x64).
#
# Which CUDA: --cuda, else the driver's (nvidia-smi's "CUDA Version"). CUDA 13: from the PyPI wheel
# onnxruntime-gpu==1.30.0 (built for CUDA 13; version and sha256 pinned below; `pip download`, or
# --wheel FILE already downloaded, or --from-dir DIR holding the two libraries already extracted:
# each file's sha256 is checked either way). CUDA 12: ONNX Runtime publishes the CUDA 12 build of
# 1.30.0 on NuGet, not PyPI, so this runs onnxruntime-node's own installer
# (`node script/install.js --onnxruntime-node-install=cuda12`, NuGet's Microsoft.ML.OnnxRuntime.Gpu.Linux).
# The provider also needs the CUDA libraries it links (cudart, cuBLAS, cuBLASLt, cuRAND, cuFFT; cuDNN
# for convolutions) on the loader's path: `build-engine --check-only` says whether it loads, and why not.
# Idempotent: files already in place with the pinned sha256 are kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ort_version="1.30.0"
wheel_name="onnxruntime_gpu-1.30.0-cp312-cp312-manylinux_2_28_x86_64.whl"
wheel_sha256="6acc0f4b3d5ac5f2984432faa59dd8fcce6775f8b43a7140afa0f322c7a703b1"
declare -A lib_sha256=(
  [libonnxruntime_providers_cuda.so]="35da2e7ed0dd0d1aec5cdb16ce11a51d06c0c48cf62d1b1c9332946a4fae14fc"
  [libonnxruntime_providers_shared.so]="086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d"
)
libs=(libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so)

log() { echo "setup-ort-cuda: $*" >&2; }
die() { echo "setup-ort-cuda: error: $*" >&2; exit "${2:-1}"; }

cuda="" wheel="" from_dir="" dest="" ort_root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda="${2:-}"; shift 2 ;;
    --wheel) wheel="${2:-}"; shift 2 ;;
    --from-dir) from_dir="${2:-}"; shift 2 ;;
    --dest) dest="${2:-}"; shift 2 ;;
    --ort-root) ort_root="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument '$1' (usage: scripts/setup-ort-cuda.sh [--cuda 12|13] [--wheel FILE] [--from-dir DIR] [--dest DIR])" 2 ;;
  esac
done
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "ONNX Runtime's CUDA provider for onnxruntime-node exists for Linux x86-64 only, not $(uname -s)-$(uname -m)" 3

# Where onnxruntime-node loads providers from, and which version it is.
node_bin="${NODE:-node}"
if [ -n "$ort_root" ]; then
  ort_pkg="$ort_root/package.json"
else
  ort_pkg="$(cd "$root/packages/runtime" && "$node_bin" -p 'require.resolve("onnxruntime-node/package.json")' 2>/dev/null)" ||
    die "onnxruntime-node is not installed: run scripts/bootstrap.sh first" 3
  ort_root="$(dirname "$ort_pkg")"
fi
installed="$("$node_bin" -p "require('$ort_pkg').version")"
[ "$installed" = "$ort_version" ] ||
  die "onnxruntime-node is $installed, this script pins the CUDA provider of $ort_version: update ort_version, wheel_name and the sha256 values here together with the pin" 3
dest="${dest:-$ort_root/bin/napi-v6/linux/x64}"
[ -f "$dest/onnxruntime_binding.node" ] ||
  die "$dest holds no onnxruntime_binding.node: pass the folder of onnxruntime-node's binding with --dest" 3

if [ -z "$cuda" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && smi="$(nvidia-smi 2>/dev/null)"; then
    cuda="$(sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' <<<"$smi" | head -1)"
  fi
  [ -n "$cuda" ] || die "no NVIDIA driver answered (nvidia-smi): pass --cuda 13 or --cuda 12 to install for a CUDA you will run on" 4
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
installed_ok() {
  for lib in "${libs[@]}"; do
    [ -f "$dest/$lib" ] && [ "$(sha_of "$dest/$lib")" = "${lib_sha256[$lib]}" ] || return 1
  done
}

case "$cuda" in
  13)
    if installed_ok; then log "the CUDA 13 provider of ONNX Runtime $ort_version is already in $dest"; exit 0; fi
    tmp="$(mktemp -d "$dest/.ort-cuda-XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    if [ -n "$from_dir" ]; then
      for lib in "${libs[@]}"; do cp "$from_dir/$lib" "$tmp/$lib" || die "$from_dir has no $lib" 5; done
    else
      if [ -z "$wheel" ]; then
        cache="$root/.tools/ort-cuda"
        mkdir -p "$cache"
        wheel="$cache/$wheel_name"
        if [ ! -f "$wheel" ] || [ "$(sha_of "$wheel")" != "$wheel_sha256" ]; then
          log "downloading onnxruntime-gpu==$ort_version from PyPI (about 250 MB)"
          python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 -d "$cache" "onnxruntime-gpu==$ort_version" ||
            die "pip could not download onnxruntime-gpu==$ort_version: check the network to PyPI, or pass --wheel FILE" 5
        fi
      fi
      [ "$(sha_of "$wheel")" = "$wheel_sha256" ] || die "$wheel is not the pinned onnxruntime-gpu $ort_version wheel (sha256 $(sha_of "$wheel"), expected $wheel_sha256)" 5
      python3 - "$wheel" "$tmp" "${libs[@]}" <<'EOF'
import sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        with z.open(f"onnxruntime/capi/{name}") as src, open(f"{out}/{name}", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
EOF
    fi
    for lib in "${libs[@]}"; do
      got="$(sha_of "$tmp/$lib")"
      [ "$got" = "${lib_sha256[$lib]}" ] || die "$lib has sha256 $got, not the pinned ${lib_sha256[$lib]} of onnxruntime-gpu $ort_version" 5
      chmod 0755 "$tmp/$lib"
    done
    # The shared bridge first: a provider without it is never half-installed from the loader's view.
    for lib in "${libs[@]}"; do mv -f "$tmp/$lib" "$dest/$lib"; done
    log "installed the CUDA 13 provider of ONNX Runtime $ort_version into $dest"
    ;;
  12)
    log "CUDA 12: running onnxruntime-node's own installer (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux $ort_version)"
    (cd "$ort_root" && "$node_bin" script/install.js --onnxruntime-node-install=cuda12) ||
      die "onnxruntime-node's installer failed (it needs api.nuget.org): see its output above" 5
    for lib in "${libs[@]}"; do [ -f "$dest/$lib" ] || die "onnxruntime-node's installer left no $lib in $dest" 5; done
    log "installed the CUDA 12 provider of ONNX Runtime $ort_version into $dest"
    ;;
  *) die "CUDA $cuda: ONNX Runtime $ort_version's CUDA provider exists for CUDA 12 and 13 only" 4 ;;
esac
