#!/usr/bin/env bash
# The test command (README Quickstart): installs what is missing, then runs every test suite.
#   scripts/test.sh            on the Node found on PATH
#   scripts/test.sh --lts      also again on the pinned current LTS Node (as CI does)
# Ends with one "<suite>: N passed, M failed" line per run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm_bin="$(bash scripts/bootstrap.sh)"
bash scripts/fetch-test-model.sh >/dev/null
python_bin="$(bash scripts/setup-python.sh --with-tests)"
# tritonserver (nvidia-pytriton) for tests/triton: a venv of its own under .tools/triton.
bash scripts/setup-triton.sh >/dev/null

run_vitest() {
  local label="$1"; shift
  local report="$root/.tools/vitest-$label.json"
  rm -f "$report"
  local status=0
  "$@" "$pnpm_bin" exec vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
  if [ -f "$report" ]; then
    node -e '
      const r = require(process.argv[1]);
      console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
    ' "$report" "$label"
  fi
  return "$status"
}

"$pnpm_bin" exec tsc -b
"$pnpm_bin" exec tsc -p tsconfig.test.json   # the tests themselves are type-checked too
bash scripts/lint.sh                           # formatting and lint (scripts/lint.sh --fix rewrites)
# The Python exporter's own tests (pytest prints its closing "N passed" line).
"$python_bin" -m pytest python/tests -q -p no:cacheprovider
run_vitest "node$(node -p 'process.versions.node.split(".")[0]')" env
if [ "${1:-}" = "--lts" ]; then
  run_vitest "lts" bash scripts/with-lts-node.sh
fi
