import { ForgeError } from "@trtforge/core";
import { parseEvidenceMaxAge, type EvidenceChoice } from "@trtforge/model-store";

/** The flags model-store promote and build-engine --promote share. */
export interface EvidenceFlags {
  evidence?: string;
  withoutEvidence?: boolean;
  evidenceMaxAge?: string;
}

export const EVIDENCE_FLAG_HELP = {
  evidence:
    "a compare-engines report (.json) of this version against the current one: promote only if it passed, is recent and is for exactly that pair",
  withoutEvidence: "promote with no compare report (recorded in the version's manifest as such)",
  evidenceMaxAge: "how old the --evidence report may be (90m, 36h, 7d; default 7d)",
} as const;

/** undefined: neither flag, which promotion refuses unless the agent has no current version yet. */
export function evidenceChoiceOf(flags: EvidenceFlags): EvidenceChoice | undefined {
  if (flags.evidence !== undefined && flags.withoutEvidence === true) {
    throw new ForgeError("USAGE", "--evidence and --without-evidence contradict each other", {
      input: "--without-evidence",
      fix: "pass the compare report with --evidence, or --without-evidence alone",
    });
  }
  if (flags.evidenceMaxAge !== undefined && flags.evidence === undefined) {
    throw new ForgeError("USAGE", "--evidence-max-age applies to an --evidence report, and none was given", {
      input: "--evidence-max-age",
      fix: "add --evidence <report.json>, or drop --evidence-max-age",
    });
  }
  if (flags.withoutEvidence === true) return { withoutEvidence: true };
  if (flags.evidence === undefined) return undefined;
  const maxAgeMs = flags.evidenceMaxAge === undefined ? undefined : parseUsage(flags.evidenceMaxAge);
  return { report: flags.evidence, ...(maxAgeMs === undefined ? {} : { maxAgeMs }) };
}

function parseUsage(text: string): number {
  try {
    return parseEvidenceMaxAge(text);
  } catch (err) {
    const error = err as ForgeError;
    throw new ForgeError("USAGE", error.message, { input: "--evidence-max-age", ...(error.fix === undefined ? {} : { fix: error.fix }) });
  }
}
