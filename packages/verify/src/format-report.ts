import type { VerifyReport } from "./verify-engine.js";

const MARK = { pass: "ok  ", fail: "FAIL", skip: "skip" } as const;

/** The human form of a verification: one line per check, then the verdict. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [`${report.engine}`, `  kind: ${report.kind}   metadata: ${report.schema ?? "none"}   size: ${report.size} bytes`];
  for (const check of report.checks) lines.push(`  [${MARK[check.status]}] ${check.name}: ${check.detail}`);
  for (const problem of report.problems.filter((p) => !report.checks.some((c) => c.status === "fail" && c.detail === p.message))) {
    lines.push(`  [FAIL] ${problem.code}: ${problem.message}`);
  }
  for (const warning of report.warnings) lines.push(`  [warn] ${warning.code}: ${warning.message}`);
  lines.push(
    report.ok ? "  verdict: OK" : `  verdict: ${report.problems.length} problem(s): ${report.problems.map((p) => p.code).join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

/** The --json form: a stable subset, with `ok`, `kind`, `schema` and `problems` always present. */
export function verifyReportJson(report: VerifyReport): Record<string, unknown> {
  return {
    ok: report.ok,
    kind: report.kind,
    schema: report.schema,
    problems: report.problems,
    warnings: report.warnings,
    checks: report.checks,
    engine: report.engine,
    sidecar: report.sidecar,
    sha256: report.sha256,
    size: report.size,
    plan_header: report.plan_header,
    metadata: report.metadata,
  };
}
