import { describe, expect, it } from "vitest";
import type { Profile } from "@trtforge/core";
import { profileOfMetadata } from "@trtforge/engine-format";
import { buildMarker, rtxEngineArtifact, type EngineTarget } from "../src/index.js";

const profile: Profile = { batch: { min: 1, opt: 4, max: 7 }, sequence: { min: 2, opt: 32, max: 64 } };
const target = (precision: EngineTarget["precision"], typing: EngineTarget["typing"]): EngineTarget => ({
  taskName: "embeddings",
  modelId: "sentence-transformers/all-MiniLM-L6-v2",
  revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
  precision,
  typing,
  trtVersion: "10.16.0",
  profile,
  inputs: ["input_ids", "attention_mask"],
  outputs: [{ name: "sentence_embedding", dims: ["batch", 384] }],
});
const builder = { name: "trtforge", version: "0.1.0", git_commit: null };
const createdAt = new Date("2026-01-01T00:00:00Z");

describe("engine artifacts: the Profile in, the same Profile out of the metadata", () => {
  it("writes max_batch_size, seq_len, the optima and every input's shapes from the Profile, and reads it back", () => {
    const { metadata } = buildMarker(target("fp16", "strong"), builder, createdAt);
    expect(metadata).toMatchObject({ max_batch_size: 7, seq_len: 64 });
    expect(metadata.build_options).toMatchObject({ opt_batch_size: 4, min_seq_len: 2, opt_seq_len: 32 });
    for (const input of metadata.inputs) expect(input).toMatchObject({ min_shape: [1, 2], opt_shape: [4, 32], max_shape: [7, 64] });
    expect(profileOfMetadata(metadata)).toEqual(profile);
  });

  it("derives strongly_typed once: from the typing (an fp32 strong marker is strongly typed), always for TensorRT-RTX", () => {
    expect(buildMarker(target("fp32", "strong"), builder, createdAt).metadata.build_options.strongly_typed).toBe(true);
    expect(buildMarker(target("int8", "weak"), builder, createdAt).metadata.build_options.strongly_typed).toBe(false);
    const facts = { onnxSha256: null, calibration: null, accuracy: [], buildOptions: {} };
    const rtx = rtxEngineArtifact(target("fp16", "weak"), builder, createdAt, facts, {
      engineBytes: Buffer.from("plan"),
      version: "1.7.1.116",
      computeCapabilities: ["8.6"],
    });
    expect(rtx.metadata.build_options.strongly_typed).toBe(true);
  });
});
