import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeError } from "@trtforge/core";
import { EngineMetadataSchema, parseSidecar, readSidecar, serializeMetadata, type EngineMetadata } from "../src/index.js";
import { LEGACY_COMPILER_SIDECAR } from "../../../tests/support/legacy-sidecar.js";

export const sampleMetadata: EngineMetadata = {
  schema_version: 1,
  kind: "engine",
  model_name: "sentence-transformers--all-MiniLM-L6-v2",
  hf_revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
  trt_version: "10.13.3.9",
  precision: "int8",
  build_options: { workspace_bytes: 2 * 1024 ** 3, builder_optimization_level: 3, strongly_typed: true },
  max_batch_size: 128,
  seq_len: 256,
  checksum: "a".repeat(64),
  created_at: "2026-11-28T12:00:00.000Z",
  task: "embeddings",
  model_id: "sentence-transformers/all-MiniLM-L6-v2",
  onnx_sha256: "b".repeat(64),
  inputs: [{ name: "input_ids", dtype: "int64", min_shape: [1, 1], opt_shape: [32, 128], max_shape: [128, 256] }],
  outputs: [{ name: "sentence_embedding", dtype: "float32", min_shape: [1, 384], opt_shape: [32, 384], max_shape: [128, 384] }],
  gpu: { name: "NVIDIA GeForce RTX 3090", compute_capability: "8.6" },
  cuda_version: "12.8",
  hardware_compatibility_level: "none",
  version_compatible: false,
  calibration: { algorithm: "entropy", dataset_sha256: "c".repeat(64), sample_count: 512, cache_sha256: "d".repeat(64) },
  accuracy: [
    {
      reference: "fp32-onnx",
      candidate: "int8-qdq-onnx",
      output: "sentence_embedding",
      samples: 1000,
      max_abs_diff: 0.02,
      cosine_mean: 0.995,
      cosine_min: 0.97,
    },
  ],
  builder: { name: "trtforge", version: "0.1.0", git_commit: "0123456789abcdef0123456789abcdef01234567" },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-meta-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("metadata v1", () => {
  it("accepts a complete document and serializes it stably", () => {
    const text = serializeMetadata(sampleMetadata);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseSidecar(text, "x.json")).toEqual({ schema: "v1", metadata: sampleMetadata });
  });

  it.each([
    ["an unknown precision", { precision: "fp64" }, "precision"],
    ["a zero batch", { max_batch_size: 0 }, "max_batch_size"],
    ["a negative sequence length", { seq_len: -1 }, "seq_len"],
    ["a short checksum", { checksum: "abc" }, "checksum"],
    ["a non-ISO date", { created_at: "2025-07-28 10:00:00" }, "created_at"],
    ["an unknown field", { surprise: true }, "surprise"],
    ["a bad kind", { kind: "plan" }, "kind"],
  ])("rejects %s", (_label, patch, field) => {
    const text = JSON.stringify({ ...sampleMetadata, ...patch });
    try {
      parseSidecar(text, "/x/e.json");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).code).toBe("METADATA_INVALID");
      expect((err as ForgeError).message).toContain("/x/e.json");
      expect((err as ForgeError).message).toContain(field);
    }
  });

  it("names the file when the JSON is malformed", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, '{"schema_version": 1,');
    await expect(readSidecar(path)).rejects.toMatchObject({ code: "JSON_MALFORMED", exitCode: 31, input: path });
  });

  it("reports a missing sidecar and a folder in place of one", async () => {
    await expect(readSidecar(join(dir, "absent.json"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(readSidecar(dir)).rejects.toMatchObject({ code: "NOT_A_FILE" });
  });

  it("keeps the plan's nine fields in the schema", () => {
    const keys = Object.keys(EngineMetadataSchema.shape);
    for (const field of [
      "model_name",
      "hf_revision",
      "trt_version",
      "precision",
      "build_options",
      "max_batch_size",
      "seq_len",
      "checksum",
      "created_at",
    ]) {
      expect(keys).toContain(field);
    }
  });
});

describe("legacy JustNewsAgent sidecars", () => {
  it("reads the real compiler's sidecar as legacy, with the task from model_name", () => {
    const reading = parseSidecar(JSON.stringify(LEGACY_COMPILER_SIDECAR), "native_sentiment_roberta.json");
    expect(reading.schema).toBe("legacy");
    if (reading.schema !== "legacy") return;
    expect(reading.legacy.task).toBe("sentiment");
    expect(reading.legacy.trtVersion).toBe("10.10.0.31");
    expect(reading.legacy.saysMarker).toBe(false);
    expect(reading.legacy.legacyFields).toEqual(
      expect.arrayContaining(["num_classes", "sequence_length", "build_time", "tensorrt_version"]),
    );
  });

  it("reads the marker script's sidecar as a legacy marker", () => {
    const reading = parseSidecar(JSON.stringify({ task: "bias", precision: "fp16", created_at: "2025-08-30 10:00:00" }), "m.json");
    expect(reading.schema === "legacy" && reading.legacy.saysMarker).toBe(true);
  });

  it("reads the fp8 marker script's sidecar as a legacy marker", () => {
    const reading = parseSidecar(
      JSON.stringify({
        task: "sentiment",
        model: "cardiffnlp/twitter-roberta-base-sentiment-latest",
        precision: "fp8",
        created_at: "2025-09-01T00:00:00Z",
        max_batch_size: 32,
        sequence_length: 512,
        num_classes: 3,
        status: "marker_engine",
        note: "marker",
      }),
      "m.json",
    );
    expect(reading.schema === "legacy" && reading.legacy.saysMarker).toBe(true);
  });

  it("does not take a v1 document with a missing field for legacy", () => {
    const { checksum: _drop, ...partial } = sampleMetadata;
    expect(() => parseSidecar(JSON.stringify(partial), "p.json")).toThrowError(/checksum/);
  });
});
