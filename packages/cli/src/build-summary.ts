import { describeCheck, figureAt, type PipelineResult } from "@trtforge/pipeline";

type AccuracyFigure = PipelineResult["accuracy"][number];

/** One accuracy figure as the summary prints it: where (held-out articles or the named shape), cosine, labels. */
export function describeFigure(f: AccuracyFigure): string {
  const where = f.shape === undefined ? `${f.samples} held-out articles` : `the ${figureAt(f)} shape`;
  const labels =
    f.label_agreement === undefined
      ? ""
      : `, labels agree ${(f.label_agreement * 100).toFixed(1)}%${f.label_set_agreement === undefined ? "" : ` (label sets ${(f.label_set_agreement * 100).toFixed(1)}%)`}`;
  const p01 = f.cosine_p01 === undefined ? "" : ` p01 ${f.cosine_p01.toFixed(5)}`;
  return `${f.candidate} ${f.output} on ${where}: cosine mean ${f.cosine_mean.toFixed(5)}${p01} min ${f.cosine_min.toFixed(5)}${labels}`;
}

/** build-engine's final summary on stdout: what was published, where current is, and the accuracy verdict with every figure. */
export function formatBuildSummary(result: PipelineResult): string {
  const lines = [`${result.reused ? "reused" : "published"} ${result.kind} ${result.engineName}`, `  ${result.versionPath}`];
  if (result.replacedDamaged)
    lines.push(`  replaced a damaged identical build: ${result.replacedDamaged.damage} (left in place, not reused)`);
  lines.push(`  current: ${result.current.change} (${result.agent}/current is ${result.current.version ?? "unset"})`);
  const gate = result.accuracyGate;
  const failed = gate.checks.filter((c) => !c.passed);
  if (gate.checks.length > 0) {
    lines.push(
      gate.verdict === "passed"
        ? `  accuracy gate: passed (${gate.checks.length} checks)`
        : `  accuracy gate: ACCEPTED with --accept-accuracy, ${failed.length} of ${gate.checks.length} checks below the gate:`,
    );
    for (const c of failed) lines.push(`    ${describeCheck(c)}`);
  }
  for (const f of result.accuracy) lines.push(`  ${describeFigure(f)}`);
  return `${lines.join("\n")}\n`;
}
