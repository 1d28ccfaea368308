#!/usr/bin/env bash
# Creates or updates the Python environment of the export stage in <repo>/.venv:
#   scripts/setup-python.sh               python/requirements.lock
#   scripts/setup-python.sh --with-tests  also python/requirements-test.lock
#   scripts/setup-python.sh --with-trtrtx also python/requirements-trtrtx.lock (TensorRT-RTX builder)
# Prints the interpreter path (<repo>/.venv/bin/python) on stdout; progress goes to stderr.
#
# Needs only python3.11 (or a python3 that is 3.11), pip and the package registries.
# torch==2.13.0 is installed first (its own dependencies held to the lock with -c), then each lock
# with --no-deps so that nothing unpinned comes in; packages that no lock names are removed, and
# `pip check` must pass. A stamp holding the sha256 of the lock files is written last: when it
# matches, the script returns at once; an interrupted run leaves no stamp and is redone next time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.trtforge-setup-stamp"
main_lock="$root/python/requirements.lock"
test_lock="$root/python/requirements-test.lock"
trtrtx_lock="$root/python/requirements-trtrtx.lock"
torch_version="2.13.0"

log() { echo "setup-python: $*" >&2; }
die() { echo "setup-python: error: $*" >&2; exit 1; }

with_tests=0
with_trtrtx=0
for arg in "$@"; do
  case "$arg" in
    --with-tests) with_tests=1 ;;
    --with-trtrtx) with_trtrtx=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument '$arg' (usage: scripts/setup-python.sh [--with-tests] [--with-trtrtx])" ;;
  esac
done

[ -f "$main_lock" ] || die "missing $main_lock"
[ "$with_tests" = 0 ] || [ -f "$test_lock" ] || die "missing $test_lock"
[ "$with_trtrtx" = 0 ] || [ -f "$trtrtx_lock" ] || die "missing $trtrtx_lock"

is_py311() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; }

sha() { python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1" 2>/dev/null \
  || sha256sum "$1" | cut -d' ' -f1; }

want_main="main=$(sha "$main_lock")"
want_test="tests=$(sha "$test_lock" 2>/dev/null || echo none)"
want_trtrtx="trtrtx=$(sha "$trtrtx_lock" 2>/dev/null || echo none)"

# Fast path: nothing changed since the last complete run.
if [ -f "$stamp" ] && [ -x "$venv/bin/python" ] && is_py311 "$venv/bin/python"; then
  if grep -qxF "$want_main" "$stamp" && { [ "$with_tests" = 0 ] || grep -qxF "$want_test" "$stamp"; } \
    && { [ "$with_trtrtx" = 0 ] || grep -qxF "$want_trtrtx" "$stamp"; }; then
    echo "$venv/bin/python"
    exit 0
  fi
fi

# One setup at a time per checkout.
mkdir -p "$root/.tools"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.tools/setup-python.lock"
  flock 9
fi

python=""
if command -v python3.11 >/dev/null 2>&1 && is_py311 "$(command -v python3.11)"; then
  python="$(command -v python3.11)"
elif command -v python3 >/dev/null 2>&1 && is_py311 "$(command -v python3)"; then
  python="$(command -v python3)"
else
  found="$(python3 --version 2>&1 || echo 'no python3')"
  die "Python 3.11 is required (python3.11, or python3 being 3.11); found: $found. Install Python 3.11 and run again."
fi
"$python" -m venv --help >/dev/null 2>&1 || die "$python has no venv module (on Debian: apt-get install python3.11-venv)"

start=$(date +%s)
rm -f "$stamp"
if [ -d "$venv" ] && ! { [ -x "$venv/bin/python" ] && is_py311 "$venv/bin/python" && "$venv/bin/python" -m pip --version >/dev/null 2>&1; }; then
  log "removing a broken or non-3.11 $venv"
  rm -rf "$venv"
fi
if [ ! -d "$venv" ]; then
  log "creating $venv with $python ($("$python" --version 2>&1))"
  "$python" -m venv "$venv"
fi
vpy="$venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
pip_install() { "$vpy" -m pip install --quiet "$@" >&2; }

# torch first, alone and exact: a looser request could resolve to a multi-GB CUDA build.
# -c holds torch's own dependencies (filelock, sympy, networkx, jinja2, fsspec, ...) to the lock.
if ! "$vpy" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('torch').split('+')[0] == '$torch_version' else 1)" 2>/dev/null; then
  log "installing torch==$torch_version"
fi
pip_install "torch==$torch_version" -c "$main_lock"
log "installing python/requirements.lock (--no-deps)"
pip_install --no-deps -r "$main_lock"
locks=("$main_lock")
if [ "$with_tests" = 1 ]; then
  log "installing python/requirements-test.lock (--no-deps)"
  pip_install --no-deps -r "$test_lock"
  locks+=("$test_lock")
fi
if [ "$with_trtrtx" = 1 ]; then
  log "installing python/requirements-trtrtx.lock (--no-deps)"
  pip_install --no-deps -r "$trtrtx_lock"
  locks+=("$trtrtx_lock")
fi

# Remove what no lock names (left over from an older lock), so the venv is exactly the locks.
extra="$("$vpy" - "${locks[@]}" <<'PY'
import importlib.metadata as md, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
wanted = {"pip", "setuptools", "wheel"}
for lock in sys.argv[1:]:
    for line in open(lock, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            wanted.add(norm(re.split(r"[=<>!~;\[ ]", line, maxsplit=1)[0]))
installed = {norm(d.metadata["Name"]) for d in md.distributions()}
print(" ".join(sorted(installed - wanted)))
PY
)"
if [ -n "$extra" ]; then
  log "removing packages no lock names: $extra"
  # shellcheck disable=SC2086
  "$vpy" -m pip uninstall --quiet --yes $extra >&2
fi

"$vpy" -m pip check >&2 || die "pip check failed: the locked set is inconsistent"

tmp="$stamp.tmp.$$"
{ echo "$want_main"; if [ "$with_tests" = 1 ]; then echo "$want_test"; fi; if [ "$with_trtrtx" = 1 ]; then echo "$want_trtrtx"; fi; } >"$tmp"
mv "$tmp" "$stamp"
log "ready in $(( $(date +%s) - start )) s"
echo "$vpy"
