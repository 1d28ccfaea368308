import { describe, expect, it } from "vitest";
import type { AccuracyFigure } from "@trtforge/accuracy";
import { accuracyKind, accuracyVerdict, enforceAccuracy, judgeAccuracy } from "../src/accuracy-policy.js";

const figure = (patch: Partial<AccuracyFigure>): AccuracyFigure => ({
  reference: "fp32-onnx",
  candidate: "int8-qdq-onnx",
  output: "sentence_embedding",
  samples: 200,
  max_abs_diff: 0.1,
  cosine_mean: 0.999,
  cosine_min: 0.995,
  cosine_p01: 0.996,
  ...patch,
});
const MAX = { name: "max", batch: 32, seq_len: 256 };

describe("the accuracy gate judges every figure a form was measured at", () => {
  it("embeddings: MiniLM int8 at the profile's maximum shape (issue 19: cosine 0.972) fails, named by shape", () => {
    const checks = judgeAccuracy(
      "int8",
      [figure({}), figure({ shape: MAX, samples: 32, cosine_mean: 0.972, cosine_min: 0.955, cosine_p01: 0.955 })],
      "embeddings",
      ["sentence_embedding"],
    );
    expect(checks.filter((c) => !c.passed).map((c) => `${c.at} ${c.measure}`)).toEqual([
      "max [32, 256] cosine mean",
      "max [32, 256] cosine p01",
    ]);
    expect(checks.filter((c) => c.passed)).toHaveLength(2);
  });

  it("embeddings: a good mean with a bad tail fails on the 1st percentile", () => {
    const checks = judgeAccuracy("fp16", [figure({ cosine_mean: 0.995, cosine_p01: 0.9 })], "embeddings", ["sentence_embedding"]);
    expect(checks.find((c) => !c.passed)?.measure).toBe("cosine p01");
  });

  it("embeddings: the per-token output is measured but not gated where a pooled output exists", () => {
    const checks = judgeAccuracy("int8", [figure({ output: "last_hidden_state", cosine_mean: 0.5 })], "embeddings", ["sentence_embedding"]);
    expect(checks).toEqual([]);
  });

  it("single-label: an int8 classifier at 84.5% agreement (issue 19) fails, whatever its cosine", () => {
    const checks = judgeAccuracy("int8", [figure({ output: "logits", cosine_mean: 0.999, label_agreement: 0.845 })], "single-label", []);
    expect(checks).toMatchObject([{ measure: "label agreement", passed: false, value: 0.845, threshold: 0.98 }]);
  });

  it("multi-label: 91.6% per decision but 59% of label sets (issue 19) fails on the label sets", () => {
    const checks = judgeAccuracy(
      "int8",
      [figure({ output: "logits", label_agreement: 0.995, label_set_agreement: 0.59, label_decision: "sigmoid-threshold" })],
      "multi-label",
      [],
    );
    expect(checks.map((c) => [c.measure, c.passed])).toEqual([
      ["label-set agreement", false],
      ["label agreement", true],
    ]);
  });

  it("the kind follows the head", () => {
    expect(accuracyKind([], undefined)).toBe("embeddings");
    expect(accuracyKind(["logits"], { kind: "argmax" })).toBe("single-label");
    expect(accuracyKind(["logits"], { kind: "sigmoid-threshold", threshold: 0.5 })).toBe("multi-label");
  });
});

describe("enforceAccuracy", () => {
  const failing = judgeAccuracy("int8", [figure({ shape: MAX, cosine_mean: 0.972, cosine_p01: 0.955 })], "embeddings", [
    "sentence_embedding",
  ]);
  const options = { code: "ACCURACY_GATE_FAILED" as const, what: "the int8 model", fix: "calibrate again" };

  it("stops the build with ACCURACY_GATE_FAILED (93), naming the shape, the measure and the threshold", () => {
    const warnings: string[] = [];
    expect(() => enforceAccuracy(failing, { ...options, accept: false, warn: (l) => warnings.push(l) })).toThrow(
      expect.objectContaining({
        code: "ACCURACY_GATE_FAILED",
        exitCode: 93,
        message: expect.stringMatching(/int8 sentence_embedding at max \[32, 256\]: cosine mean 0\.97200 < 0\.99 FAILED/),
        fix: expect.stringMatching(/--accept-accuracy/),
      }),
    );
    expect(warnings).toEqual([]);
  });

  it("with --accept-accuracy: each failure is a warning and the verdict says accepted", () => {
    const warnings: string[] = [];
    enforceAccuracy(failing, { ...options, accept: true, warn: (l) => warnings.push(l) });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/accepted by --accept-accuracy: int8 sentence_embedding at max \[32, 256\]/);
    expect(accuracyVerdict(failing)).toMatchObject({
      verdict: "accepted",
      failed: [expect.stringMatching(/cosine mean/), expect.stringMatching(/p01/)],
    });
  });
});
