import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifierHead, labelOptions } from "../src/label-decision.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-head-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function modelWith(name: string, config: object): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, "config.json"), JSON.stringify({ model_type: "bert", max_position_embeddings: 512, ...config }));
  return path;
}

describe("classifierHead (how a head's logits become labels, from config.json)", () => {
  it("toxic-bert's problem_type multi_label_classification: each label at sigmoid 0.5", async () => {
    const toxic = await modelWith("toxic", {
      problem_type: "multi_label_classification",
      id2label: { 0: "toxic", 1: "severe_toxic", 2: "obscene", 3: "threat", 4: "insult", 5: "identity_hate" },
    });
    expect(await classifierHead(toxic)).toEqual({
      decision: { kind: "sigmoid-threshold", threshold: 0.5 },
      problemType: "multi_label_classification",
    });
    expect(await labelOptions("sequence-classification", ["logits"], toxic)).toEqual({
      labelOutputs: ["logits"],
      labelDecision: { kind: "sigmoid-threshold", threshold: 0.5 },
    });
  });

  it("single-label (stated, or no problem_type with several labels): argmax", async () => {
    const stated = await modelWith("sentiment", {
      problem_type: "single_label_classification",
      id2label: { 0: "negative", 1: "neutral", 2: "positive" },
    });
    expect((await classifierHead(stated)).decision).toEqual({ kind: "argmax" });
    const unstated = await modelWith("unstated", { id2label: { 0: "negative", 1: "neutral", 2: "positive" } });
    expect(await classifierHead(unstated)).toEqual({ decision: { kind: "argmax" }, problemType: "single_label_classification" });
  });

  it("a regressor (one output, or problem_type regression) has no labels to agree on", async () => {
    const one = await modelWith("score", { num_labels: 1 });
    expect(await classifierHead(one)).toEqual({ decision: undefined, problemType: "regression" });
    expect(await labelOptions("sequence-classification", ["logits"], one)).toEqual({ labelOutputs: [], labelDecision: undefined });
  });

  it("an embedding model gets no label agreement, whatever its config says", async () => {
    const embedder = await modelWith("embedder", { problem_type: "multi_label_classification" });
    expect(await labelOptions("feature-extraction", ["last_hidden_state", "sentence_embedding"], embedder)).toEqual({
      labelOutputs: [],
      labelDecision: undefined,
    });
  });
});
