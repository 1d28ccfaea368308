/**
 * How a classifier head's logits become labels, as its config says (problem_type): one label per
 * sample by argmax for single-label heads; for multi-label heads (sigmoid outputs, e.g.
 * toxic-bert) one yes/no decision per label at the threshold on sigmoid(logit).
 */
export type LabelDecision = { kind: "argmax" } | { kind: "sigmoid-threshold"; threshold: number };

export const ARGMAX: LabelDecision = { kind: "argmax" };

/** Equal decisions out of all decisions made: one per row for argmax, one per row and label for a threshold. */
export interface LabelTally {
  agreed: number;
  decisions: number;
  /** Samples whose every decision agreed (the whole label set, for a multi-label head). */
  samplesAgreed: number;
  samples: number;
}

function argmaxOf(values: ArrayLike<number>, from: number, size: number): number {
  let best = 0;
  for (let i = 1; i < size; i++) if (values[from + i]! > values[from + best]!) best = i;
  return best;
}

/** sigmoid(x) ≥ t, computed on the logit: x ≥ logit(t), exact at the boundary for t = 0.5 (x ≥ 0). */
function logitOf(threshold: number): number {
  return Math.log(threshold / (1 - threshold));
}

export function labelAgreement(
  reference: ArrayLike<number>,
  candidate: ArrayLike<number>,
  rowSize: number,
  decision: LabelDecision,
): LabelTally {
  if (reference.length !== candidate.length) throw new Error(`${reference.length} reference values, ${candidate.length} candidate values`);
  const rows = reference.length / rowSize;
  let agreed = 0;
  if (decision.kind === "argmax") {
    for (let r = 0; r < rows; r++) if (argmaxOf(reference, r * rowSize, rowSize) === argmaxOf(candidate, r * rowSize, rowSize)) agreed++;
    return { agreed, decisions: rows, samplesAgreed: agreed, samples: rows };
  }
  const cut = logitOf(decision.threshold);
  let samplesAgreed = 0;
  for (let r = 0; r < rows; r++) {
    let all = true;
    for (let i = r * rowSize; i < (r + 1) * rowSize; i++) {
      if (reference[i]! >= cut === candidate[i]! >= cut) agreed++;
      else all = false;
    }
    if (all) samplesAgreed++;
  }
  return { agreed, decisions: reference.length, samplesAgreed, samples: rows };
}
