import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, sha256File } from "@trtforge/core";
import { readArticles, type ArticleSet } from "@trtforge/articles";
import {
  assertGpuServingAccuracy,
  gpuServingFiles,
  gpuServingStage,
  GPU_SERVING_MIN_COSINE,
  type GpuServingStageOptions,
} from "@trtforge/pipeline";
import { minilmDir, minilmOnnx } from "../packages/calibration/test/minilm-onnx.js";
import { thrown } from "./support/errors.js";
import { agNewsCsv } from "./support/ag-news.js";

let work: string;
let articles: ArticleSet;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "trtforge-gpu-serving-"));
  articles = await readArticles(agNewsCsv());
});
afterAll(async () => rm(work, { recursive: true, force: true }));

function options(overrides: Partial<GpuServingStageOptions> = {}): GpuServingStageOptions {
  return {
    workRoot: work,
    choice: "fp16",
    onnxPath: minilmOnnx(),
    onnxSha256: "minilm-test-export",
    modelDir: minilmDir(),
    articles,
    calibrationSamples: 64,
    heldOut: 24,
    seed: 0,
    seqLen: 128,
    batchSize: 8,
    outputs: ["last_hidden_state", "sentence_embedding"],
    shapes: [
      { name: "min", batch: 1, seqLen: 1 },
      { name: "opt", batch: 4, seqLen: 64 },
      { name: "max", batch: 8, seqLen: 128 },
    ],
    maxSeqLen: 128,
    toolVersion: "test",
    logger: silentLogger(),
    ...overrides,
  };
}

describe("gpuServingStage on all-MiniLM-L6-v2, against PyTorch fp32 on held-out AG News articles", () => {
  it("fuses, converts to fp16 with fp32 inputs/outputs kept, measures every shape of the profile and passes the gate", async () => {
    const stage = (await gpuServingStage(options()))!;
    const r = stage.record;
    expect(r.precision).toBe("fp16");
    expect(r.optimization).toMatchObject({ attention_blocks: 6, attention_fused: 6 });
    expect(r.optimization.fused_operators).toMatchObject({ Attention: 6, SkipLayerNormalization: 12, BiasGelu: 6 });
    const v = r.validation;
    expect(v.reference).toMatch(/^PyTorch .* fp32/);
    expect(v.articles).toBe(24);
    expect(v.shapes.map((s) => `${s.name}:${s.batch}x${s.seq_len}`)).toEqual(["min:1x1", "opt:4x64", "max:8x128"]);
    expect(v.providers).toContain("CPUExecutionProvider");
    const fp16 = v.figures.find(
      (f) => f.candidate === "fused-fp16" && f.output === "sentence_embedding" && f.provider === "CPUExecutionProvider",
    )!;
    // 24 articles + 1 + 4 + 8 shape rows.
    expect(fp16.samples).toBe(37);
    expect(fp16.cosine_mean).toBeGreaterThanOrEqual(GPU_SERVING_MIN_COSINE);
    expect(fp16.cosine_mean).toBeLessThan(0.9999999); // fp16 really changed the numbers
    const fused32 = v.figures.find((f) => f.candidate === "fused-fp32" && f.output === "sentence_embedding")!;
    expect(fused32.cosine_min).toBeGreaterThan(0.999999);
    expect(r.gate).toMatchObject({ candidate: "fused-fp16", outputs: ["sentence_embedding"] });
    expect(JSON.parse(await readFile(stage.recordPath, "utf8"))).toEqual(r);
    expect(r.sha256).toBe(await sha256File(stage.onnxPath));
    expect(gpuServingFiles(stage).map((f) => f.path)).toEqual(["model.gpu.onnx", "gpu-serving.json"]);

    // The file itself: int64 ids in, fp32 out, fp16 weights inside (and the fp16 figures above came from running it).
    expect(r.optimization.float16).toMatchObject({
      io: {
        inputs: { input_ids: "INT64", attention_mask: "INT64", token_type_ids: "INT64" },
        outputs: { last_hidden_state: "FLOAT", sentence_embedding: "FLOAT" },
      },
    });
    expect(Object.keys((r.optimization.float16 as { initializers: Record<string, number> }).initializers)).toContain("FLOAT16");
    const again = (await gpuServingStage(options()))!;
    expect(again.reused).toBe(true);
  }, 900_000);

  it("off makes nothing", async () => {
    expect(await gpuServingStage(options({ choice: "off" }))).toBeUndefined();
    expect(gpuServingFiles(undefined)).toEqual([]);
  });

  it("the gate fails on the mean, on the 1st percentile, on labels, and when nothing could run the variant", () => {
    const gate = {
      candidate: "fused-fp16",
      outputs: ["sentence_embedding", "logits"],
      min_cosine: 0.999,
      min_cosine_p1: 0.998,
      min_label_agreement: 0.99,
    };
    const figure = (patch: object) => ({
      candidate: "fused-fp16",
      provider: "CPUExecutionProvider",
      output: "sentence_embedding",
      reference: "pytorch-fp32",
      samples: 200,
      cosine_mean: 0.9999,
      cosine_p1: 0.9995,
      cosine_min: 0.999,
      max_abs_diff: 0.001,
      ...patch,
    });
    expect(() => assertGpuServingAccuracy([figure({})], gate)).not.toThrow();
    expect(thrown(() => assertGpuServingAccuracy([figure({ cosine_mean: 0.998 })], gate)).code).toBe("GPU_SERVING_ACCURACY_FAILED");
    const p1 = thrown(() => assertGpuServingAccuracy([figure({ cosine_p1: 0.99 })], gate));
    expect(p1.message).toMatch(/sentence_embedding on CPUExecutionProvider: cosine mean 0\.999900 p1 0\.990000/);
    expect(p1.exitCode).toBe(117);
    expect(thrown(() => assertGpuServingAccuracy([figure({ output: "logits", label_agreement: 0.95 })], gate)).message).toContain(
      "labels agree 95.0%",
    );
    // The fused fp32 graph is measured, not gated; without an fp16 figure the variant was never judged.
    expect(thrown(() => assertGpuServingAccuracy([figure({ candidate: "fused-fp32" })], gate)).message).toContain("could not be measured");
  });
});
