import { readFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { z } from "zod";
import { ForgeError, fsError, sha256Hex } from "@trtforge/core";

/**
 * What a promotion rests on: a compare-engines report (packages/compare) of the candidate against
 * the version now current, or the operator's explicit choice to go without one. Only the fields
 * promotion judges are read here; the report carries many more (figures, latency), which stay
 * the compare package's business.
 */
export const COMPARE_REPORT_FORMAT = "trtforge-compare/1";

/** A week: long enough to compare on Friday and promote on Monday, short enough that the current version it was measured against is still the one serving. */
export const DEFAULT_EVIDENCE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

const SideSchema = z.looseObject({ agent: z.string().min(1), version: z.string().min(1) });

export const EvidenceReportSchema = z.looseObject({
  format: z.literal(COMPARE_REPORT_FORMAT),
  created_at: z.iso.datetime({ offset: true }),
  baseline: SideSchema,
  candidate: SideSchema,
  verdict: z.looseObject({ passed: z.boolean(), failures: z.array(z.string()) }),
});
export type EvidenceReport = z.infer<typeof EvidenceReportSchema>;

/** How a promotion is justified: a report file, or explicitly none. */
export type EvidenceChoice = { report: string; maxAgeMs?: number } | { withoutEvidence: true };

/** What the promoted version's manifest keeps of one promotion (metadata.promotions[]): what was believed at the time. */
export const PromotionRecordSchema = z.looseObject({
  at: z.string(),
  /** user@host of the process that promoted. */
  by: z.string(),
  /** The version current named before, if any. */
  from: z.string().nullable(),
  /** "report": a passed compare report; "none": --without-evidence; "first": the agent had nothing to compare with. */
  evidence: z.enum(["report", "none", "first"]),
  report_sha256: z.string().optional(),
  report_path: z.string().optional(),
  report_created_at: z.string().optional(),
});
export type PromotionRecord = z.infer<typeof PromotionRecordSchema>;
/** The part of a PromotionRecord the judgement decides (the store adds at, by, from). */
export interface PromotionBasis {
  evidence: "report" | "none" | "first";
  report_sha256?: string;
  report_path?: string;
  report_created_at?: string;
}

/** The promotions a manifest records, oldest first; none (never an error) where the key is missing or foreign. */
export function promotionsOf(metadata: Record<string, unknown>): PromotionRecord[] {
  const parsed = z.array(PromotionRecordSchema).safeParse(metadata.promotions);
  return parsed.success ? parsed.data : [];
}

export function promoter(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? "unknown";
  }
  return `${user}@${hostname()}`;
}

/** "7d", "36h", "90m": the --evidence-max-age forms. */
export function parseEvidenceMaxAge(text: string, input = "--evidence-max-age"): number {
  const match = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(text.trim());
  if (match === null || Number(match[1]) <= 0) {
    throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not a duration`, {
      input,
      fix: "give a positive number with a unit: 90m, 36h or 7d",
    });
  }
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

export interface ReadEvidence {
  report: EvidenceReport;
  sha256: string;
  path: string;
}

export async function readEvidenceReport(path: string): Promise<ReadEvidence> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "reading the compare report given as --evidence");
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new ForgeError("PROMOTION_EVIDENCE_MISMATCH", `${path} is not JSON: ${(err as Error).message}`, {
      input: path,
      fix: "give the .json report compare-engines wrote (not its .md table)",
    });
  }
  const parsed = EvidenceReportSchema.safeParse(json);
  if (!parsed.success) {
    throw new ForgeError("PROMOTION_EVIDENCE_MISMATCH", `${path} is not a compare-engines report:\n${z.prettifyError(parsed.error)}`, {
      input: path,
      fix: `give the .json report compare-engines wrote (format "${COMPARE_REPORT_FORMAT}")`,
    });
  }
  return { report: parsed.data, sha256: sha256Hex(bytes), path };
}

/**
 * Whether the report justifies making `candidate` current over `current`: exactly that pair (the
 * report's baseline is the version current names now, its candidate the version being promoted,
 * both of this agent), no older than maxAgeMs, and passed. Throws the first reason it does not.
 */
export function judgeEvidence(
  evidence: ReadEvidence,
  expected: { agent: string; candidate: string; current: string },
  options: { maxAgeMs?: number; now?: Date } = {},
): void {
  const { report, path } = evidence;
  const pair = `${report.baseline.agent}@${report.baseline.version} → ${report.candidate.agent}@${report.candidate.version}`;
  const want = `${expected.agent}@${expected.current} → ${expected.agent}@${expected.candidate}`;
  if (
    report.baseline.agent !== expected.agent ||
    report.candidate.agent !== expected.agent ||
    report.baseline.version !== expected.current ||
    report.candidate.version !== expected.candidate
  ) {
    throw new ForgeError(
      "PROMOTION_EVIDENCE_MISMATCH",
      `the report compares ${pair}, but promoting needs ${want} (the candidate against the version now current)`,
      {
        input: path,
        fix: `compare them first: compare-engines ${expected.agent}@${expected.current} ${expected.agent}@${expected.candidate} --articles <held-out articles>`,
        details: { report: { baseline: report.baseline, candidate: report.candidate }, expected },
      },
    );
  }
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_EVIDENCE_MAX_AGE_MS;
  const now = options.now ?? new Date();
  const ageMs = now.getTime() - Date.parse(report.created_at);
  if (ageMs > maxAgeMs) {
    throw new ForgeError(
      "PROMOTION_EVIDENCE_STALE",
      `the report (${report.created_at}) is ${(ageMs / 3_600_000).toFixed(1)} h old, more than the allowed ${(maxAgeMs / 3_600_000).toFixed(1)} h`,
      {
        input: path,
        fix: "run compare-engines again on the same pair, or allow an older report with --evidence-max-age",
        details: { created_at: report.created_at, age_hours: ageMs / 3_600_000, max_age_hours: maxAgeMs / 3_600_000 },
      },
    );
  }
  if (!report.verdict.passed) {
    throw new ForgeError(
      "PROMOTION_EVIDENCE_FAILED",
      `the report's verdict is failed: the candidate ${expected.agent}@${expected.candidate} is worse than ${expected.current}: ${report.verdict.failures.join("; ")}`,
      {
        input: path,
        fix: "keep the current version; fix the candidate (or, having weighed the figures, promote with --without-evidence)",
        details: { failures: report.verdict.failures },
      },
    );
  }
}

export function evidenceRequired(agent: string, version: string, current: string): ForgeError {
  return new ForgeError(
    "PROMOTION_EVIDENCE_REQUIRED",
    `promoting ${agent}@${version} over the current ${current} needs evidence: a passed compare-engines report of ${version} against ${current}`,
    {
      input: `${agent}@${version}`,
      fix: `compare-engines ${agent}@${current} ${agent}@${version} --articles <held-out articles>, then pass its .json as --evidence; or pass --without-evidence (recorded in the manifest)`,
    },
  );
}
