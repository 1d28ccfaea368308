#!/usr/bin/env bash
# The main job on its embedded default, no GPU needed (README Quickstart): installs what is
# missing, checks the host, writes marker engines for the build matrix in conf/models.yaml into
# ./demo-out and verifies each of them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm_bin="$(bash scripts/bootstrap.sh)"
out="${1:-$root/demo-out}"
"$pnpm_bin" exec build-engine --check-only --for marker >/dev/null
"$pnpm_bin" exec build-engine --build-markers --out "$out" --force
for engine in "$out"/*.engine; do
  "$pnpm_bin" exec verify-engine "$engine"
done
