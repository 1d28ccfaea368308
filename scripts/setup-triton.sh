#!/usr/bin/env bash
# Installs the Triton Inference Server the Triton tests run (tests/triton/), into <repo>/.tools/triton:
#   venv/       a Python 3.11 environment from python/requirements-triton.lock (nvidia-pytriton's
#               tritonserver 2.51.0, numpy, tokenizers, onnxruntime), every package --no-deps
#   backends/   Triton's --backend-directory: the wheel's Python backend and its 3.11 stub
# Prints the folder (.tools/triton) on stdout; progress goes to stderr. A stamp holding the lock's
# sha256 is written last: when it matches, the script returns at once.
#
# The Python backend's stub embeds the system's libpython3.11 and finds its packages the way
# python3 would: tests start tritonserver with venv/bin first on PATH, so the embedded interpreter
# takes this venv's site-packages (its pyvenv.cfg), the venv being made from that same Python.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/triton"
lock="$root/python/requirements-triton.lock"
stamp="$dest/.trtforge-triton-stamp"

log() { echo "setup-triton: $*" >&2; }
die() { echo "setup-triton: error: $*" >&2; exit 1; }

[ -f "$lock" ] || die "missing $lock"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dest/venv/bin/python" ]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$root/.tools"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.tools/setup-triton.lock"
  flock 9
fi

# The stub links libpython3.11.so.1.0 from the system: the venv must come from that Python.
if ! ldconfig -p 2>/dev/null | grep -q 'libpython3\.11\.so\.1\.0' || [ ! -x /usr/bin/python3.11 ] \
  || ! /usr/bin/python3.11 -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's libpython3.11 and python3.11-venv"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpython3.11 python3.11 python3.11-venv >&2
  else
    die "Triton's Python backend needs the system's libpython3.11.so.1.0 and /usr/bin/python3.11 with venv (Debian: apt-get install libpython3.11 python3.11-venv)"
  fi
fi

start=$(date +%s)
rm -f "$stamp"
rm -rf "$dest/venv" "$dest/backends"
log "creating $dest/venv with /usr/bin/python3.11"
/usr/bin/python3.11 -m venv "$dest/venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
grep -Ev '^\s*(#|$)' "$lock" | xargs "$dest/venv/bin/python" -m pip install --quiet --no-deps >&2

# Located without importing pytriton (its client needs packages the server does not).
tritonserver_dir="$(echo "$dest"/venv/lib/python3.11/site-packages/pytriton/tritonserver)"
[ -x "$tritonserver_dir/bin/tritonserver" ] || die "nvidia-pytriton installed no tritonserver under $tritonserver_dir"
mkdir -p "$dest/backends/python"
for f in libtriton_python.so triton_python_backend_utils.py; do
  ln -sf "$tritonserver_dir/backends/python/$f" "$dest/backends/python/$f"
done
# Triton runs the stub found in the backend folder; the wheel keeps one per Python version aside.
cp "$tritonserver_dir/python_backend_stubs/3.11/triton_python_backend_stub" "$dest/backends/python/"
"$dest/venv/bin/python" -c 'import numpy, tokenizers, onnxruntime' || die "the Triton venv cannot import numpy, tokenizers and onnxruntime"
echo "$want" > "$stamp"
log "ready in $(( $(date +%s) - start )) s"
echo "$dest"
