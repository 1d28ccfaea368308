import { ForgeError, type ErrorCode } from "@trtforge/core";
import type { AccuracyFigure, LabelDecision } from "@trtforge/accuracy";

/**
 * The accuracy a precision form (int8 or fp16 for TensorRT, the CPU-serving ONNX) must keep against
 * fp32 before it is published, by what the model hands out. Measured on the repository's models
 * (docs/pipeline.md, "Accuracy gates"): each passing form clears them with room, and today's
 * MiniLM int8 at the profile's largest shape does not.
 */
export const ACCURACY_THRESHOLDS = {
  /** Sentence embeddings (and any float output that is not a label): mean and 1st-percentile cosine. */
  embeddings: { cosineMean: 0.99, cosineP01: 0.98 },
  /** Single-label heads: the share of samples whose argmax label equals fp32's. */
  singleLabel: { labelAgreement: 0.98 },
  /** Multi-label heads: the share of samples whose whole label set equals fp32's, and of single label decisions. */
  multiLabel: { labelSetAgreement: 0.95, labelAgreement: 0.99 },
} as const;

/** What a form is judged as: from the task and, for classifiers, the head's decision. */
export type AccuracyKind = "embeddings" | "single-label" | "multi-label";

export function accuracyKind(labelOutputs: readonly string[], decision: LabelDecision | undefined): AccuracyKind {
  if (labelOutputs.length === 0 || decision === undefined) return "embeddings";
  return decision.kind === "sigmoid-threshold" ? "multi-label" : "single-label";
}

/** One threshold checked on one figure. */
export interface GateCheck {
  /** int8, fp16 or cpu-serving. */
  form: string;
  candidate: string;
  output: string;
  /** "held-out" or the profile shape, e.g. "max [32, 256]". */
  at: string;
  measure: "cosine mean" | "cosine p01" | "label agreement" | "label-set agreement";
  value: number;
  threshold: number;
  passed: boolean;
}

export function figureAt(f: AccuracyFigure): string {
  return f.shape === undefined ? "held-out" : `${f.shape.name} [${f.shape.batch}, ${f.shape.seq_len}]`;
}

export function describeCheck(c: GateCheck): string {
  const value = c.measure.startsWith("label") ? `${(c.value * 100).toFixed(1)}%` : c.value.toFixed(5);
  const threshold = c.measure.startsWith("label") ? `${(c.threshold * 100).toFixed(1)}%` : String(c.threshold);
  return `${c.form} ${c.output} at ${c.at}: ${c.measure} ${value} ${c.passed ? "≥" : "<"} ${threshold} ${c.passed ? "passed" : "FAILED"}`;
}

/**
 * Every figure of a form (the held-out articles and each profile shape it was run at) against the
 * thresholds of its kind. Embeddings are judged on `gated` outputs (the served ones); label outputs
 * on their agreement.
 */
export function judgeAccuracy(form: string, figures: readonly AccuracyFigure[], kind: AccuracyKind, gated: readonly string[]): GateCheck[] {
  const checks: GateCheck[] = [];
  const check = (f: AccuracyFigure, measure: GateCheck["measure"], value: number | undefined, threshold: number) => {
    if (value === undefined) return;
    checks.push({ form, candidate: f.candidate, output: f.output, at: figureAt(f), measure, value, threshold, passed: value >= threshold });
  };
  for (const f of figures) {
    if (kind === "embeddings") {
      if (!gated.includes(f.output)) continue;
      check(f, "cosine mean", f.cosine_mean, ACCURACY_THRESHOLDS.embeddings.cosineMean);
      check(f, "cosine p01", f.cosine_p01 ?? f.cosine_min, ACCURACY_THRESHOLDS.embeddings.cosineP01);
    } else if (kind === "single-label") {
      check(f, "label agreement", f.label_agreement, ACCURACY_THRESHOLDS.singleLabel.labelAgreement);
    } else {
      check(f, "label-set agreement", f.label_set_agreement, ACCURACY_THRESHOLDS.multiLabel.labelSetAgreement);
      check(f, "label agreement", f.label_agreement, ACCURACY_THRESHOLDS.multiLabel.labelAgreement);
    }
  }
  return checks;
}

/** What was decided about a build's accuracy, as provenance and the version's metadata record it. */
export interface AccuracyVerdict {
  /** passed: every check passed; accepted: some failed and --accept-accuracy published it anyway. */
  verdict: "passed" | "accepted";
  failed: string[];
  checks: GateCheck[];
}

/**
 * Stops the build when a check failed, unless the operator accepted the loss; then each failure is
 * a warning and the verdict says "accepted". `code` tells the failing form apart (TensorRT precision
 * or the CPU-serving ONNX).
 */
export function enforceAccuracy(
  checks: readonly GateCheck[],
  o: { accept: boolean; code: ErrorCode; what: string; fix: string; warn: (line: string) => void },
): void {
  const failed = checks.filter((c) => !c.passed);
  if (failed.length === 0) return;
  if (o.accept) {
    for (const c of failed) o.warn(`accuracy below its gate, accepted by --accept-accuracy: ${describeCheck(c)}`);
    return;
  }
  throw new ForgeError(
    o.code,
    `${o.what} is below its accuracy gate against fp32; nothing was published:\n${failed.map((c) => `  ${describeCheck(c)}`).join("\n")}`,
    {
      input: "--accept-accuracy",
      fix: `${o.fix}; or pass --accept-accuracy to publish it anyway (recorded in provenance and shown by model-store show)`,
    },
  );
}

export function accuracyVerdict(checks: readonly GateCheck[]): AccuracyVerdict {
  const failed = checks.filter((c) => !c.passed).map(describeCheck);
  return { verdict: failed.length === 0 ? "passed" : "accepted", failed, checks: [...checks] };
}
