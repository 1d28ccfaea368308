#!/usr/bin/env bash
# The test command (README Quickstart): installs what is missing, then runs every test suite.
#   scripts/test.sh            on the Node found on PATH
#   scripts/test.sh --lts      then again on the pinned current LTS Node (as CI does): the unit project
#                              and one serve-engine end-to-end smoke, what can differ between Node versions
# Ends with one "<suite>: N passed, M failed" line per run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pnpm_bin="$(bash scripts/bootstrap.sh)"
bash scripts/fetch-test-model.sh >/dev/null
python_bin="$(bash scripts/setup-python.sh --with-tests --with-trtrtx)"
bash scripts/setup-perf-analyzer.sh >/dev/null   # Triton's perf_analyzer for tests/serve-triton-tools.test.ts
# tritonserver (nvidia-pytriton) for tests/triton: a venv of its own under .tools/triton.
bash scripts/setup-triton.sh >/dev/null

# The summary line comes from scripts/vitest-summary.mjs, which counts unhandled errors and test
# files that failed to load as failures (vitest's JSON report does not), so a red run never reads
# "0 failed"; the exit status stays vitest's own.
# TRTFORGE_TEST_DURATIONS=<dir>: each run also writes vitest's JSON report to <dir>/<label>.json, for
# `node scripts/test-durations.mjs <dir>/<label>.json` (per-file durations, slowest first).
run_vitest() {
  local label="$1"; shift
  local status=0
  local report=()
  if [ -n "${TRTFORGE_TEST_DURATIONS:-}" ]; then
    mkdir -p "$TRTFORGE_TEST_DURATIONS"
    report=(--reporter=json "--outputFile.json=$TRTFORGE_TEST_DURATIONS/$label.json")
  fi
  TRTFORGE_TEST_LABEL="$label" "$@" "$pnpm_bin" exec vitest run --reporter=default --reporter=./scripts/vitest-summary.mjs "${report[@]}" || status=$?
  [ "$status" = 0 ] || echo "$label: vitest exited $status" >&2
  return "$status"
}

"$pnpm_bin" exec tsc -b
"$pnpm_bin" exec tsc -p tsconfig.test.json   # the tests themselves are type-checked too
bash scripts/lint.sh                           # formatting and lint (scripts/lint.sh --fix rewrites)
# The Python exporter's own tests (pytest prints its closing "N passed" line).
"$python_bin" -m pytest python/tests -q -p no:cacheprovider
run_vitest "node$(node -p 'process.versions.node.split(".")[0]')" env
if [ "${1:-}" = "--lts" ]; then
  # Beyond the unit project, the end-to-end suites would rerun the same CLI and server code over Python and
  # files that do not depend on Node: vitest.config.ts keeps only their smoke under TRTFORGE_TEST_SCOPE=lts.
  run_vitest "lts" env TRTFORGE_TEST_SCOPE=lts bash scripts/with-lts-node.sh
fi
