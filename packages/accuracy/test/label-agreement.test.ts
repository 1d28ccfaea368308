import { describe, expect, it } from "vitest";
import { labelAgreement } from "../src/index.js";

describe("labelAgreement", () => {
  // Two samples, three labels. The candidate keeps every argmax but moves label 1 of sample 0 and
  // label 2 of sample 1 across sigmoid 0.5 (logit 0): a multi-label head would answer differently.
  const reference = new Float32Array([2.0, 0.3, -1.0, -2.0, 1.5, -0.1]);
  const candidate = new Float32Array([2.1, -0.2, -1.1, -1.9, 1.4, 0.05]);

  it("argmax: one label per sample", () => {
    expect(labelAgreement(reference, candidate, 3, { kind: "argmax" })).toEqual({ agreed: 2, decisions: 2 });
  });

  it("multi-label: one decision per sample and label at the sigmoid threshold", () => {
    expect(labelAgreement(reference, candidate, 3, { kind: "sigmoid-threshold", threshold: 0.5 })).toEqual({ agreed: 4, decisions: 6 });
  });

  it("the threshold is on the sigmoid probability, not the logit", () => {
    // Label 0 is above 0.5 on both sides (sigmoid 0.574 and 0.711) but only the candidate's clears 0.7.
    const decisions = labelAgreement(new Float32Array([0.3, 1.5]), new Float32Array([0.9, 1.4]), 2, {
      kind: "sigmoid-threshold",
      threshold: 0.7,
    });
    expect(decisions).toEqual({ agreed: 1, decisions: 2 });
  });
});
