#!/usr/bin/env bash
# Installs Triton's load generator, perf_analyzer, into <repo>/.tools/perf-analyzer/ and prints the
# path of its wrapper (bin/perf_analyzer) on stdout; progress goes to stderr.
#
# perf_analyzer ships as a binary inside the tritonclient manylinux wheel on PyPI. It runs without a
# GPU but links libcudart.so.12 (from PyPI's nvidia-cuda-runtime-cu12) and libb64.so.0d (Debian's
# libb64-0d). All three are downloaded at pinned versions, checked against pinned sha256 sums and
# unpacked into the folder; nothing is installed into the system or into .venv, whose tritonclient
# (python/requirements-test.lock) is a different version and stays as it is. A stamp written last
# makes a second run return at once; an interrupted run is redone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/perf-analyzer"
stamp="$dest/.stamp"

tritonclient_version="2.41.0"
tritonclient_wheel="tritonclient-2.41.0-py3-none-manylinux1_x86_64.whl"
tritonclient_sha256="cf4ed5df836fa99937678a9fd852f86ba05c7b83656dd0a540e20afdb9ab4629"
cudart_version="12.9.79"
cudart_wheel="nvidia_cuda_runtime_cu12-12.9.79-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
cudart_sha256="25bba2dfb01d48a9b59ca474a1ac43c6ebf7011f1b0b8cc44f54eb6ac48a96c3"
libb64_version="1.2-5+b1"
libb64_deb="libb64-0d_1.2-5+b1_amd64.deb"
libb64_sha256="b0e1d6fde8bdccc18c3884144aede064dc82464dd4777275fa80e74c05583e82"
want="tritonclient=$tritonclient_sha256 cudart=$cudart_sha256 libb64=$libb64_sha256"

log() { echo "setup-perf-analyzer: $*" >&2; }
die() { echo "setup-perf-analyzer: error: $*" >&2; exit 1; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dest/bin/perf_analyzer" ]; then
  echo "$dest/bin/perf_analyzer"
  exit 0
fi
[ "$(uname -m)" = "x86_64" ] || die "perf_analyzer's wheel is for x86_64 Linux; this machine is $(uname -m)"

mkdir -p "$root/.tools"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.tools/setup-perf-analyzer.lock"
  flock 9
fi
rm -rf "$dest"
work="$(mktemp -d "$root/.tools/perf-analyzer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/downloads" "$work/lib" "$work/bin" "$work/libexec"

check() {
  local file="$1" sum="$2"
  echo "$sum  $file" | sha256sum -c --status - || die "sha256 of $(basename "$file") is $(sha256sum "$file" | cut -d' ' -f1), expected $sum"
}

python="$(command -v python3 || true)"
[ -n "$python" ] || die "python3 with pip is needed to download the wheels"
log "downloading tritonclient $tritonclient_version and nvidia-cuda-runtime-cu12 $cudart_version (wheels, no install)"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  --python-version 3.11 -d "$work/downloads" "tritonclient==$tritonclient_version" "nvidia-cuda-runtime-cu12==$cudart_version" >&2
check "$work/downloads/$tritonclient_wheel" "$tritonclient_sha256"
check "$work/downloads/$cudart_wheel" "$cudart_sha256"

log "downloading Debian's libb64-0d $libb64_version"
fetch_deb() { (cd "$work/downloads" && apt-get download "libb64-0d=$libb64_version" >&2 2>/dev/null); }
if ! fetch_deb; then
  # A fresh machine may have no package lists yet (CI runs as root, where this works).
  apt-get update >&2 || die "apt-get update failed; run it as root once, then again"
  fetch_deb || die "apt-get download libb64-0d=$libb64_version failed"
fi
check "$work/downloads/$libb64_deb" "$libb64_sha256"

python_unzip() { "$python" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[3], "wb").write(z.read(sys.argv[2]))' "$@"; }
python_unzip "$work/downloads/$tritonclient_wheel" "tritonclient-$tritonclient_version.data/data/bin/perf_analyzer" "$work/libexec/perf_analyzer"
chmod +x "$work/libexec/perf_analyzer"
python_unzip "$work/downloads/$cudart_wheel" "nvidia/cuda_runtime/lib/libcudart.so.12" "$work/lib/libcudart.so.12"
dpkg-deb -x "$work/downloads/$libb64_deb" "$work/deb"
cp "$work/deb/usr/lib/x86_64-linux-gnu/libb64.so.0d" "$work/lib/"

cat >"$work/bin/perf_analyzer" <<'WRAP'
#!/usr/bin/env bash
# perf_analyzer with the libraries it links (libcudart, libb64) from this folder.
here="$(cd "$(dirname "$0")/.." && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/libexec/perf_analyzer" "$@"
WRAP
chmod +x "$work/bin/perf_analyzer"
missing="$(LD_LIBRARY_PATH="$work/lib" ldd "$work/libexec/perf_analyzer" | grep 'not found' || true)"
[ -z "$missing" ] || die "perf_analyzer still misses libraries: $missing"
rm -rf "$work/downloads" "$work/deb"
mv "$work" "$dest"
trap - EXIT
echo "$want" >"$stamp"
log "installed $dest/bin/perf_analyzer"
echo "$dest/bin/perf_analyzer"
