#!/usr/bin/env bash
# Installs what the TypeScript side needs, from the npm registry only: pnpm (pinned, into .tools/),
# the workspace's dependencies from the lock file, and the compiled packages (pnpm's prepare runs
# tsc -b). Idempotent and quick when nothing changed. Prints the pnpm path on stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pnpm_version="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
pnpm_bin="$root/.tools/node_modules/.bin/pnpm"
if [ ! -x "$pnpm_bin" ] || [ "$("$pnpm_bin" --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "installing pnpm $pnpm_version into .tools/" >&2
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$root/.tools" "pnpm@$pnpm_version" >&2
fi
cd "$root"
"$pnpm_bin" install --frozen-lockfile --reporter=silent >&2
echo "$pnpm_bin"
