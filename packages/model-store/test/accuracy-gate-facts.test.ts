import { describe, expect, it } from "vitest";
import { buildFacts, describeAccuracyGate } from "../src/index.js";

describe("a build's accuracy verdict in its metadata (issue 19: --accept-accuracy is shown by model-store show)", () => {
  it("reads and describes an accepted verdict with each failed check", () => {
    const facts = buildFacts({
      kind: "marker",
      accuracy_gate: { verdict: "accepted", failed: ["int8 sentence_embedding at max [32, 256]: cosine mean 0.97191 < 0.99 FAILED"] },
    });
    expect(facts.accuracyGate?.verdict).toBe("accepted");
    expect(describeAccuracyGate(facts.accuracyGate)).toBe(
      "ACCEPTED below its accuracy gate with --accept-accuracy (1 check failed):\n    int8 sentence_embedding at max [32, 256]: cosine mean 0.97191 < 0.99 FAILED",
    );
  });

  it("says passed, and nothing for versions without a verdict", () => {
    expect(describeAccuracyGate(buildFacts({ accuracy_gate: { verdict: "passed", failed: [] } }).accuracyGate)).toBe(
      "passed every accuracy gate",
    );
    expect(describeAccuracyGate(buildFacts({ kind: "engine", accuracy_gate: "bogus" }).accuracyGate)).toBeUndefined();
  });
});
