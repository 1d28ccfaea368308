import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fsError, writeFileAtomic } from "@trtforge/core";
import { COMPARE_REPORT_FORMAT } from "@trtforge/model-store";
import type { ModelEvidence, ModelKind } from "@trtforge/runtime";
import type { CompareBackend } from "./sides.js";
import type { OutputFigures, Thresholds, Verdict } from "./verdict.js";

export { COMPARE_REPORT_FORMAT };

export interface SideReport {
  agent: string;
  version: string;
  backend: CompareBackend;
  onnx_variant: string;
  /** What served: backend, artifact and its sha256, precision, fallback reason (the runtime's evidence). */
  evidence: ModelEvidence;
  fallback_detail?: string;
}

export interface TimingFigures {
  batches: number;
  batch_ms_mean: number;
  batch_ms_p50: number;
  batch_ms_p95: number;
  articles_per_second: number;
}

/**
 * compare-engines' report. `format`, `created_at`, `baseline`/`candidate` {agent, version} and
 * `verdict` are what promotion reads (EvidenceReportSchema in @trtforge/model-store).
 */
export interface CompareReport {
  format: typeof COMPARE_REPORT_FORMAT;
  created_at: string;
  baseline: SideReport;
  candidate: SideReport;
  kind: ModelKind;
  articles: {
    source: string;
    sha256: string;
    /** Articles left after the exclusion, of which `count` were drawn (seeded). */
    available: number;
    count: number;
    seed: number;
    excluded?: { source: string; count: number };
    /** Each compared article's origin ("file:line"), in the order compared: enough to redo any figure. */
    ids: string[];
  };
  outputs: OutputFigures[];
  latency: { batch_size: number; baseline: TimingFigures; candidate: TimingFigures };
  thresholds: Thresholds;
  verdict: Verdict;
}

const f = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function sideName(side: SideReport): string {
  const e = side.evidence;
  return `${side.agent}@${side.version} (${e.backend}${e.execution_provider ? `/${e.execution_provider}` : ""}, ${e.artifact}, ${e.precision})`;
}

/** The short Markdown table beside the JSON: what an operator reads before promoting. */
export function reportMarkdown(report: CompareReport): string {
  const lines: string[] = [];
  lines.push(
    `# ${report.verdict.passed ? "PASSED" : "FAILED"}: ${report.candidate.agent}@${report.candidate.version} against ${report.baseline.agent}@${report.baseline.version}`,
  );
  lines.push("");
  lines.push(`- baseline: ${sideName(report.baseline)}`);
  lines.push(`- candidate: ${sideName(report.candidate)}`);
  const ex = report.articles.excluded;
  lines.push(
    `- articles: ${report.articles.count} of ${report.articles.source} (seed ${report.articles.seed}${ex ? `; ${ex.count} of ${ex.source} left out` : ""}), ${report.created_at}`,
  );
  lines.push("");
  lines.push("| output | figure | value | threshold |");
  lines.push("|---|---|---|---|");
  const t = report.thresholds;
  for (const o of report.outputs) {
    if (o.kind === "embedding") {
      const g = o.figures;
      lines.push(`| ${o.output} | cosine mean | ${f(g.cosine_mean, 5)} | ≥ ${t.minCosine} |`);
      lines.push(`| ${o.output} | cosine min / p5 | ${f(g.cosine_min, 5)} / ${f(g.cosine_p5, 5)} | |`);
      lines.push(`| ${o.output} | max abs diff | ${f(g.max_abs_diff, 5)} | |`);
      lines.push(
        `| ${o.output} | top-${g.neighbours} neighbour overlap mean / min | ${f(g.neighbour_overlap_mean, 3)} / ${f(g.neighbour_overlap_min, 2)} | |`,
      );
    } else {
      const g = o.figures;
      lines.push(`| ${o.output} | agreement | ${f(g.agreement)} (${g.flips} flipped) | ≥ ${t.minAgreement} |`);
      lines.push(
        `| ${o.output} | \\|Δ confidence\\| mean / p99 | ${f(g.confidence_delta_mean)} / ${f(g.confidence_delta_p99)} | p99 ≤ ${t.maxConfidenceDelta} |`,
      );
    }
  }
  const l = report.latency;
  lines.push(
    `| latency | batch of ${l.batch_size}: p50 / p95 ms, articles/s | baseline ${f(l.baseline.batch_ms_p50, 1)} / ${f(l.baseline.batch_ms_p95, 1)}, ${f(l.baseline.articles_per_second, 1)}; candidate ${f(l.candidate.batch_ms_p50, 1)} / ${f(l.candidate.batch_ms_p95, 1)}, ${f(l.candidate.articles_per_second, 1)} | |`,
  );
  for (const o of report.outputs) {
    if (o.kind !== "classification") continue;
    lines.push("");
    lines.push(`Confusion (rows: baseline, columns: candidate): ${o.figures.labels.join(", ")}`);
    lines.push("");
    lines.push(`| | ${o.figures.labels.join(" | ")} |`);
    lines.push(`|---|${o.figures.labels.map(() => "---").join("|")}|`);
    for (const a of o.figures.labels) lines.push(`| ${a} | ${o.figures.labels.map((b) => o.figures.confusion[a]![b]).join(" | ")} |`);
    if (o.figures.flipped.length > 0) {
      lines.push("");
      lines.push(`Flipped (first ${o.figures.flipped.length} of ${o.figures.flips}):`);
      lines.push("");
      for (const flip of o.figures.flipped.slice(0, 10)) {
        lines.push(
          `- ${flip.id}: ${flip.baseline.label} ${f(flip.baseline.confidence, 3)} → ${flip.candidate.label} ${f(flip.candidate.confidence, 3)}: ${flip.excerpt.replace(/\s+/g, " ")}`,
        );
      }
    }
  }
  if (!report.verdict.passed) {
    lines.push("");
    lines.push("Failed:");
    lines.push("");
    for (const failure of report.verdict.failures) lines.push(`- ${failure}`);
  }
  return `${lines.join("\n")}\n`;
}

function stamp(iso: string): string {
  return iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** `compare-<agent>-<baseline>-vs-<candidate>-<UTC time>`, with each side's backend where they differ only in it. */
export function reportStem(report: CompareReport): string {
  const b = report.baseline;
  const c = report.candidate;
  const tag = (s: SideReport) =>
    b.version === c.version ? `${s.version}.${s.backend}-${s.evidence.artifact.replace(/\.onnx$|\.engine$/, "")}` : s.version;
  return `compare-${b.agent}-${tag(b)}-vs-${tag(c)}-${stamp(report.created_at)}`;
}

/** Writes `<dir>/<stem>.json` and `<stem>.md` atomically; returns their paths. */
export async function writeReport(report: CompareReport, dir: string): Promise<{ json: string; markdown: string }> {
  const out = resolve(dir);
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw fsError(err, out, "creating the report folder");
  }
  const stem = reportStem(report);
  const json = join(out, `${stem}.json`);
  const markdown = join(out, `${stem}.md`);
  await writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(markdown, reportMarkdown(report));
  return { json, markdown };
}
