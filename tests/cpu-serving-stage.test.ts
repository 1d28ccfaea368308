import { readFile, stat } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isForgeError, silentLogger, sha256File } from "@trtforge/core";
import { readArticles, type ArticleSet } from "@trtforge/articles";
import { assertCpuServingAccuracy, cpuServingStage, type CpuServingStageOptions } from "@trtforge/pipeline";
import { minilmDir, minilmOnnx } from "../packages/calibration/test/minilm-onnx.js";
import { agNewsCsv } from "./support/ag-news.js";

let work: string;
let articles: ArticleSet;
let onnx: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "trtforge-cpu-serving-"));
  articles = await readArticles(agNewsCsv());
  onnx = minilmOnnx();
});
afterAll(async () => rm(work, { recursive: true, force: true }));

function options(overrides: Partial<CpuServingStageOptions> = {}): CpuServingStageOptions {
  return {
    workRoot: work,
    choice: "int8",
    onnxPath: onnx,
    onnxSha256: "minilm-test-export",
    modelDir: minilmDir(),
    articles,
    calibrationSamples: 64,
    heldOut: 48,
    seed: 0,
    seqLen: 128,
    batchSize: 16,
    outputs: ["last_hidden_state", "sentence_embedding"],
    labelOutputs: [],
    toolVersion: "test",
    logger: silentLogger(),
    ...overrides,
  };
}

describe("cpuServingStage on all-MiniLM-L6-v2 and held-out AG News articles", () => {
  it("int8: fuses every attention block, quantizes the weights and keeps sentence embeddings ≥ 0.99 cosine of fp32", async () => {
    const stage = (await cpuServingStage(options()))!;
    expect(stage.reused).toBe(false);
    const r = stage.record;
    expect(r.optimization).toMatchObject({ attention_blocks: 6, attention_fused: 6, num_heads: 12, hidden_size: 384 });
    expect(r.optimization.fused_operators).toMatchObject({ Attention: 6, SkipLayerNormalization: 12, BiasGelu: 6 });
    expect(r.optimization.quantization?.integer_nodes).toMatchObject({ QAttention: 6, MatMulInteger: 18 });
    expect(r.tuned_for).toEqual({ onnxruntime: "1.30.0", onnxruntime_node: "1.30.0" });
    const embedding = r.accuracy.find((f) => f.output === "sentence_embedding")!;
    expect(embedding.samples).toBe(48);
    expect(embedding.cosine_mean).toBeGreaterThanOrEqual(0.99);
    expect(embedding.cosine_mean).toBeLessThan(0.99999); // int8 really changed the numbers
    // The record on disk is the one returned, and names the file by its sha256.
    expect(JSON.parse(await readFile(stage.recordPath, "utf8"))).toEqual(r);
    expect(r.sha256).toBe(await sha256File(stage.onnxPath));
  }, 300_000);

  it("reuses the stage on a second run with the same inputs, without rewriting it", async () => {
    const before = await stat(join(work, "cpu-serving"));
    const first = (await cpuServingStage(options()))!;
    const mtime = (await stat(first.onnxPath)).mtimeMs;
    const again = (await cpuServingStage(options()))!;
    expect(again.reused).toBe(true);
    expect(again.dir).toBe(first.dir);
    expect((await stat(again.onnxPath)).mtimeMs).toBe(mtime);
    expect(before.isDirectory()).toBe(true);
  }, 120_000);

  it("fails the gate with CPU_SERVING_ACCURACY_FAILED when the int8 form is below the threshold, also when reused", async () => {
    const err = await cpuServingStage(options({ minCosine: 0.99999 })).catch((e: unknown) => e);
    expect(isForgeError(err) && err.code).toBe("CPU_SERVING_ACCURACY_FAILED");
    expect(String((err as Error).message)).toMatch(/sentence_embedding: cosine mean 0\.99/);
  }, 120_000);

  it("fails a classifier whose labels disagree with fp32 too often", () => {
    const figure = {
      reference: "fp32-onnx",
      candidate: "cpu",
      output: "logits",
      samples: 100,
      max_abs_diff: 0.1,
      cosine_mean: 0.999,
      cosine_min: 0.99,
      cosine_p01: 0.99,
      label_agreement: 0.9,
    };
    expect(() => assertCpuServingAccuracy([figure], 0.99, 0.98, "dynamic-int8")).toThrow(/labels agree 90\.0%/);
    expect(() => assertCpuServingAccuracy([{ ...figure, label_agreement: 0.99 }], 0.99, 0.98, "dynamic-int8")).not.toThrow();
  });

  it("fp32: the fused graph alone matches the export (cosine ≥ 0.9999) and off publishes nothing", async () => {
    const stage = (await cpuServingStage(options({ choice: "fp32" })))!;
    expect(stage.record.optimization.quantization).toBeNull();
    expect(stage.record.optimization.attention_fused).toBe(6);
    for (const f of stage.record.accuracy) expect(f.cosine_mean, f.output).toBeGreaterThanOrEqual(0.9999);
    expect(await cpuServingStage(options({ choice: "off" }))).toBeUndefined();
  }, 300_000);
});
