// A vitest reporter that prints scripts/test.sh's closing "<suite>: N passed, M failed" line.
// vitest's own JSON report counts only failed tests, so a run that went red through an unhandled
// rejection or a test file that failed to load read "0 failed"; here every such error counts too.
//   vitest run --reporter=default --reporter=./scripts/vitest-summary.mjs
// The suite label comes from TRTFORGE_TEST_LABEL (default "vitest").

/** @param {number} n @param {string} one @param {string} many */
function count(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The summary of one run, from what vitest hands its reporters at the end.
 * @param {ReadonlyArray<import("vitest/node").TestModule>} testModules
 * @param {ReadonlyArray<unknown>} unhandledErrors
 */
export function summarize(testModules, unhandledErrors) {
  let passed = 0;
  let failedTests = 0;
  let skipped = 0;
  let brokenFiles = 0;
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === "passed") passed++;
      else if (state === "failed") failedTests++;
      else skipped++;
    }
    // A file that failed outside any test (import error, failing hook) has no failed test to count.
    if (module.errors().length > 0) brokenFiles++;
  }
  const unhandled = unhandledErrors.length;
  const failed = failedTests + brokenFiles + unhandled;
  const causes = [];
  if (brokenFiles > 0) causes.push(count(brokenFiles, "test file that failed to run", "test files that failed to run"));
  if (unhandled > 0) causes.push(count(unhandled, "unhandled error", "unhandled errors"));
  return { passed, failed, skipped, failedTests, brokenFiles, unhandled, causes };
}

/** @param {string} label @param {ReturnType<typeof summarize>} s */
export function summaryLine(label, s) {
  const why = s.causes.length > 0 ? ` (${s.failedTests} tests, ${s.causes.join(", ")})` : "";
  return `${label}: ${s.passed} passed, ${s.failed} failed${why}` + (s.skipped > 0 ? `, ${s.skipped} skipped` : "");
}

export default class SummaryReporter {
  /**
   * @param {ReadonlyArray<import("vitest/node").TestModule>} testModules
   * @param {ReadonlyArray<unknown>} unhandledErrors
   */
  onTestRunEnd(testModules, unhandledErrors) {
    const label = process.env.TRTFORGE_TEST_LABEL || "vitest";
    process.stdout.write(summaryLine(label, summarize(testModules, unhandledErrors)) + "\n");
  }
}
