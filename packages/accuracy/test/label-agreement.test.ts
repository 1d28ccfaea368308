import { describe, expect, it } from "vitest";
import { labelAgreement } from "../src/index.js";

describe("labelAgreement", () => {
  // Two samples, three labels. The candidate keeps every argmax but moves label 1 of sample 0 and
  // label 2 of sample 1 across sigmoid 0.5 (logit 0): a multi-label head would answer differently.
  const reference = new Float32Array([2.0, 0.3, -1.0, -2.0, 1.5, -0.1]);
  const candidate = new Float32Array([2.1, -0.2, -1.1, -1.9, 1.4, 0.05]);

  it("argmax: one label per sample", () => {
    expect(labelAgreement(reference, candidate, 3, { kind: "argmax" })).toEqual({ agreed: 2, decisions: 2, samplesAgreed: 2, samples: 2 });
  });

  it("multi-label: one decision per sample and label at the sigmoid threshold", () => {
    expect(labelAgreement(reference, candidate, 3, { kind: "sigmoid-threshold", threshold: 0.5 })).toEqual({
      agreed: 4,
      decisions: 6,
      samplesAgreed: 0,
      samples: 2,
    });
  });

  it("multi-label: a sample counts for the label set only when every label agrees (issue 19: 91.6% per decision, 41% of sets differed)", () => {
    // Four samples of three labels; each sample but the last has one label flipped: 11 of 12 decisions, 1 of 4 sets.
    const ref = new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const cand = new Float32Array([-1, 1, 1, 1, -1, 1, 1, 1, 1, 1, 1, 1]);
    expect(labelAgreement(ref, cand, 3, { kind: "sigmoid-threshold", threshold: 0.5 })).toEqual({
      agreed: 10,
      decisions: 12,
      samplesAgreed: 2,
      samples: 4,
    });
  });

  it("the threshold is on the sigmoid probability, not the logit", () => {
    // Label 0 is above 0.5 on both sides (sigmoid 0.574 and 0.711) but only the candidate's clears 0.7.
    const decisions = labelAgreement(new Float32Array([0.3, 1.5]), new Float32Array([0.9, 1.4]), 2, {
      kind: "sigmoid-threshold",
      threshold: 0.7,
    });
    expect(decisions).toEqual({ agreed: 1, decisions: 2, samplesAgreed: 0, samples: 1 });
  });
});
