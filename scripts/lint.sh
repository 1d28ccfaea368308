#!/usr/bin/env bash
# Format and lint checks of the whole tree (scripts/test.sh runs them, so CI does):
#   Prettier (TypeScript, JavaScript, JSON), ESLint with typescript-eslint (floating and misused
#   promises, unused code; eslint.config.js), clang-format on native/ (.clang-format).
#   scripts/lint.sh          check; exits non-zero on any finding
#   scripts/lint.sh --fix    rewrite what the formatters can fix, then check the rest
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: scripts/lint.sh [--fix]" >&2; exit 2 ;;
esac
pnpm_bin="$(bash scripts/bootstrap.sh)"
python_bin="$(bash scripts/setup-python.sh --with-tests --with-trtrtx)"
clang_format="$(dirname "$python_bin")/clang-format"
[ -x "$clang_format" ] || { echo "lint: no clang-format in $(dirname "$python_bin") (python/requirements-test.lock pins it)" >&2; exit 1; }
mapfile -t native_sources < <(git ls-files 'native/*.c' 'native/*.cc' 'native/*.cu' 'native/*.h')

if [ "$fix" = 1 ]; then
  "$pnpm_bin" exec prettier --write --log-level warn .
  "$pnpm_bin" exec eslint --fix .
  "$clang_format" -i "${native_sources[@]}"
fi
"$pnpm_bin" exec prettier --check --log-level warn .
"$pnpm_bin" exec eslint .
"$clang_format" --dry-run --Werror "${native_sources[@]}"
echo "lint: prettier, eslint and clang-format ($("$clang_format" --version | awk '{print $NF}')) found nothing"
