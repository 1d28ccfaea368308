import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readArticles, type ArticleSet } from "@trtforge/articles";
import {
  floatActivations,
  insertQdq,
  loadOnnxModel,
  onnxSha256,
  quantizationSites,
  serializeOnnxModel,
  type OnnxModel,
} from "@trtforge/onnx-graph";
import { loadTokenizer, type ModelTokenizer } from "@trtforge/tokenizer";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  calibrate,
  calibrationTensors,
  DEFAULT_SAMPLE_STRIDE,
  importTrtCache,
  parseTrtCache,
  trtCacheOfRecord,
  writeTrtCache,
  type CalibrateOptions,
  type CalibrationResult,
} from "../src/index.js";
import { AG_NEWS_CSV, minilmDir, minilmOnnx } from "./minilm-onnx.js";
import { rejection } from "../../../tests/support/errors.js";

/**
 * Real calibration runs: the exporter's fp32 ONNX of all-MiniLM-L6-v2, its tokenizer, AG News
 * articles, onnxruntime-node on the CPU. Sizes are kept small for CI (64 articles, batch 16,
 * sequence 128); the benchmark runs the full size.
 */

let onnxPath: string;
let model: OnnxModel;
let tokenizer: ModelTokenizer;
let articles: ArticleSet;
let work: string;
let main: CalibrationResult;
const batchCalls: [number, number][] = [];

function options(overrides: Partial<CalibrateOptions> = {}): CalibrateOptions {
  return { onnxPath, tokenizer, articles, samples: 16, batchSize: 16, seqLen: 128, trtVersion: "10.16.0", ...overrides };
}

beforeAll(async () => {
  onnxPath = minilmOnnx();
  [model, tokenizer, articles] = await Promise.all([loadOnnxModel(onnxPath), loadTokenizer(minilmDir()), readArticles(AG_NEWS_CSV)]);
  work = await mkdtemp(join(tmpdir(), "trtforge-calibration-minilm-"));
  main = await calibrate(
    options({ samples: 64, algorithm: "entropy", tensors: "all-float", onBatch: (done, total) => batchCalls.push([done, total]) }),
  );
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("calibrate on MiniLM (entropy, every float activation)", () => {
  it("gives every float activation a finite positive scale, except the attention mask, which it says why", () => {
    const activations = floatActivations(model);
    const skipped = main.record.skipped.map((s) => s.tensor);
    expect([...main.scales.keys(), ...skipped].sort()).toEqual([...activations].sort());
    // In graph order, as TensorRT lists them.
    expect([...main.scales.keys()]).toEqual(activations.filter((t) => !skipped.includes(t)));
    for (const [tensor, scale] of main.scales) {
      expect(Number.isFinite(scale), tensor).toBe(true);
      expect(scale, tensor).toBeGreaterThan(0);
      expect(Math.fround(scale), tensor).toBeGreaterThan(0);
    }
    // The mask is 0 where attended and float32's lowest where not: no range is left once the fills are out.
    expect(main.record.skipped).toHaveLength(1);
    expect(main.record.skipped[0]!.reason).toMatch(/every finite value is 0 \(\d+ mask fill\(s\) and 0 NaN kept out\)/);
    expect(main.warnings.join("\n")).toContain(main.record.skipped[0]!.tensor);
  });

  it("covers every MatMul input (the Q/DQ sites)", () => {
    const sites = quantizationSites(model);
    expect(sites.length).toBe(36 + 12); // 6 layers × (Q, K, V, output, FFN in, FFN out) + 2 attention MatMuls
    for (const site of sites) for (const a of site.activations) expect(main.scales.has(a.tensor), a.tensor).toBe(true);
  });

  it("calibrates the masked attention scores on their real values and counts the fills it kept out", () => {
    // One scores + mask tensor per layer holds float32-lowest fills; they are counted, not calibrated.
    const withFills = main.record.excluded_values.filter((e) => e.fills > 0);
    expect(withFills.length).toBeGreaterThanOrEqual(7);
    for (const e of withFills) {
      expect(e.nan).toBe(0);
      expect(e.counted).toBeGreaterThan(0);
      if (main.scales.has(e.tensor)) expect(main.scales.get(e.tensor)! * 127).toBeLessThan(1000);
    }
    // One note (not a warning: masks are expected) names them all, with their counts.
    expect(main.warnings.filter((w) => w.includes("mask fills"))).toEqual([]);
    const fillWarnings = main.notes.filter((w) => w.includes("mask fills"));
    expect(fillWarnings).toHaveLength(1);
    expect(fillWarnings[0]).toContain(`kept out of the histograms of ${main.record.excluded_values.length} tensor(s)`);
    for (const e of withFills)
      expect(fillWarnings[0]).toContain(`${e.tensor} (${e.fills} fill(s), 0 NaN, ${e.counted} sampled values (1 in 31) counted)`);
  });

  it("records its keys, settings, time and memory", async () => {
    const r = main.record;
    expect(r.onnx_sha256).toBe(await onnxSha256(onnxPath));
    expect(r.dataset_sha256).toBe(articles.sha256);
    expect(r).toMatchObject({
      algorithm: "entropy",
      trt_cache_algorithm: "EntropyCalibration2",
      tensor_scope: "all-float",
      samples: 64,
      batch_size: 16,
      rows_per_run: 8,
      seq_len: 128,
      bins: 2048,
      sample_stride: DEFAULT_SAMPLE_STRIDE,
      trt_version: "10.16.0",
      onnxruntime_node: "1.30.0",
    });
    expect(r.percentile).toBeUndefined();
    expect(r.seconds).toBeGreaterThan(0);
    expect(r.peak_rss_bytes).toBeGreaterThan(100e6);
    expect(batchCalls).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it("derives copies and constant multiples from their source instead of fetching them", () => {
    const selection = calibrationTensors(model, "all-float");
    const derived = [...selection.derivedFrom].filter(([tensor, d]) => d.source !== tensor);
    expect(derived.length).toBeGreaterThan(60);
    expect(selection.fetched.length + derived.length).toBe(selection.tensors.length);
    expect(main.fetchedTensors).toBe(selection.fetched.length);
    // GELU's x / √2 and 0.5 · (…) are constant multiples.
    expect(derived.some(([, d]) => Math.abs(d.factor - Math.SQRT1_2) < 1e-6)).toBe(true);
    expect(derived.some(([, d]) => d.factor === 0.5)).toBe(true);
    for (const [tensor, { source, factor }] of derived) {
      if (main.scales.has(source)) expect(main.scales.get(tensor)).toBeCloseTo(main.scales.get(source)! * factor, 12);
    }
  });

  it("writes a TensorRT cache that parses back to the same scales, and imports it for the same model", async () => {
    const text = trtCacheOfRecord(main.record);
    expect(text.split("\n")[0]).toBe("TRT-101600-EntropyCalibration2");
    const parsed = parseTrtCache(text);
    expect(parsed.scales.size).toBe(main.scales.size);
    for (const [tensor, scale] of main.scales) expect(parsed.scales.get(tensor)).toBe(Math.fround(scale));

    const path = join(work, "calibration.cache");
    await writeFile(path, text);
    const imported = await importTrtCache(path, { onnxPath, onnxSha256: main.record.onnx_sha256 });
    expect(imported.trtVersion).toBe("10.16.0");
    expect(imported.algorithm).toBe("EntropyCalibration2");
    expect(imported.scales).toEqual(parsed.scales);
    expect(imported.missing).toEqual([]);
    expect(imported.uncovered).toEqual(main.record.skipped.map((s) => s.tensor));
    expect(writeTrtCache(imported.scales, { trtVersion: imported.trtVersion, algorithm: imported.algorithm })).toBe(text);
  });

  it("feeds insertQdq: the Q/DQ model runs in ONNX Runtime close to the fp32 model", async () => {
    const { model: qdq, quantizedSites, missingScales } = insertQdq(model, { activationScales: main.scales });
    expect(missingScales).toEqual([]);
    expect(quantizedSites.length).toBe(quantizationSites(model).length);
    const texts = articles.articles.slice(100, 108).map((a) => a.text);
    const batch = tokenizer.encodeBatch(texts, { maxLength: 128, padding: "max_length", truncation: true });
    const dims = [batch.batchSize, batch.seqLen];
    const feeds = {
      input_ids: new Tensor("int64", batch.inputIds, dims),
      attention_mask: new Tensor("int64", batch.attentionMask, dims),
      token_type_ids: new Tensor("int64", batch.tokenTypeIds!, dims),
    };
    const run = async (bytes: Uint8Array) => {
      const session = await InferenceSession.create(bytes);
      try {
        return (await session.run(feeds, ["sentence_embedding"])).sentence_embedding!.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const [fp32, int8] = await Promise.all([run(serializeOnnxModel(model)), run(serializeOnnxModel(qdq))]);
    const width = 384;
    const cosines: number[] = [];
    for (let row = 0; row < batch.batchSize; row++) {
      let dot = 0;
      let a2 = 0;
      let b2 = 0;
      for (let k = row * width; k < (row + 1) * width; k++) {
        dot += fp32[k]! * int8[k]!;
        a2 += fp32[k]! ** 2;
        b2 += int8[k]! ** 2;
      }
      cosines.push(dot / Math.sqrt(a2 * b2));
    }
    // A sanity bound on the scales, not an accuracy gate: every MatMul (attention ones included)
    // runs in int8 here. Measured on these rows: entropy mean 0.96; max calibration does better on
    // BERT (0.98), as NVIDIA advises MinMax for NLP.
    expect(Math.min(...cosines)).toBeGreaterThan(0.9);
    expect(cosines.reduce((a, b) => a + b, 0) / cosines.length).toBeGreaterThan(0.94);
  }, 60_000);
});

describe("calibrate: algorithms, scope and memory", () => {
  let byAlgorithm: Record<"entropy" | "percentile" | "max", CalibrationResult>;
  beforeAll(async () => {
    const run = (algorithm: "entropy" | "percentile" | "max") => calibrate(options({ algorithm, tensors: "quantization-sites" }));
    byAlgorithm = { entropy: await run("entropy"), percentile: await run("percentile"), max: await run("max") };
  }, 180_000);

  it("calibrates only the MatMul inputs in the quantization-sites scope", () => {
    const wanted = new Set(quantizationSites(model).flatMap((s) => s.activations.map((a) => a.tensor)));
    expect(new Set(byAlgorithm.entropy.scales.keys())).toEqual(wanted);
  });

  it("never puts entropy or percentile thresholds above the max", () => {
    for (const [tensor, max] of byAlgorithm.max.amax) {
      expect(byAlgorithm.entropy.amax.get(tensor)!).toBeLessThanOrEqual(max);
      expect(byAlgorithm.percentile.amax.get(tensor)!).toBeLessThanOrEqual(max);
    }
    // Entropy clips somewhere: on real activations it does not return the max everywhere.
    const clipped = [...byAlgorithm.max.amax].filter(([t, max]) => byAlgorithm.entropy.amax.get(t)! < 0.9 * max);
    expect(clipped.length).toBeGreaterThan(0);
  });

  it("labels each cache with TensorRT's closest algorithm and records the real one", () => {
    expect(byAlgorithm.entropy.record).toMatchObject({ algorithm: "entropy", trt_cache_algorithm: "EntropyCalibration2" });
    expect(byAlgorithm.percentile.record).toMatchObject({
      algorithm: "percentile",
      percentile: 99.99,
      trt_cache_algorithm: "EntropyCalibration2",
    });
    expect(byAlgorithm.max.record).toMatchObject({ algorithm: "max", trt_cache_algorithm: "EntropyCalibration2" });
    expect(trtCacheOfRecord(byAlgorithm.max.record).split("\n")[0]).toBe("TRT-101600-EntropyCalibration2");
  });

  it("derives the same amax as a histogram of the tensor itself would give", async () => {
    // Every value: a sample of a transposed copy holds other elements than the sample of its source.
    const direct = await calibrate(options({ tensors: "all-float", deriveScales: false, sampleStride: 1 }));
    const derived = await calibrate(options({ tensors: "all-float", sampleStride: 1 }));
    expect(derived.fetchedTensors).toBeLessThan(direct.fetchedTensors);
    expect([...derived.amax.keys()]).toEqual([...direct.amax.keys()]);
    // Equal to float rounding: |c·x| in float32 is not exactly |c|·|x| at every bin edge.
    for (const [tensor, amax] of direct.amax) expect(derived.amax.get(tensor)! / amax, tensor).toBeCloseTo(1, 5);
  }, 120_000);

  it("sampling keeps every max exact: max calibration gives the same amax with every value or every 31st", async () => {
    const full = await calibrate(options({ algorithm: "max", tensors: "all-float", sampleStride: 1 }));
    const sampled = await calibrate(options({ algorithm: "max", tensors: "all-float" }));
    expect(full.record.sample_stride).toBe(1);
    expect(sampled.record.sample_stride).toBe(DEFAULT_SAMPLE_STRIDE);
    expect([...sampled.amax.keys()]).toEqual([...full.amax.keys()]);
    for (const [tensor, amax] of full.amax) expect(sampled.amax.get(tensor), tensor).toBe(amax);
    expect(sampled.record.skipped.map((x) => x.tensor)).toEqual(full.record.skipped.map((x) => x.tensor));
    // The masked attention scores hold float32-lowest fills: their in-graph max had to leave them out.
    const withFills = full.record.excluded_values.filter((e) => e.fills > 0).map((e) => e.tensor);
    expect(withFills.length).toBeGreaterThanOrEqual(7);
    expect(new Set(sampled.maskedTensors)).toEqual(new Set(withFills));
    // The graph told where the fills are (a float32-lowest constant, a Where and the Adds after it): no run had to be repeated.
    expect(sampled.sessionRebuilds).toBe(0);
    expect(full.maskedTensors).toEqual([]);
    // A sample of 1/31 of the values is counted; fills in the sample are counted apart, as in the full histogram.
    for (const e of sampled.record.excluded_values) {
      const whole = full.record.excluded_values.find((f) => f.tensor === e.tensor)!;
      expect(e.counted).toBeGreaterThan(whole.counted / 40);
      expect(e.counted).toBeLessThan(whole.counted / 25);
    }
  }, 120_000);

  it("holds histogram state whose size does not depend on the number of samples", async () => {
    const more = await calibrate(options({ samples: 32, tensors: "quantization-sites" }));
    expect(more.record.samples).toBe(32);
    expect(more.histogramBytes).toBe(byAlgorithm.entropy.histogramBytes);
    // 2048 float64 counts plus a 4-lane uint32 scratch per fetched tensor.
    expect(more.histogramBytes).toBe(more.fetchedTensors * (2048 * 8 + 2049 * 4 * 4));
  }, 120_000);
});

describe("calibrate refuses bad inputs", () => {
  it("INPUT_MISMATCH names both sides when the tokenizer does not give what the model takes", async () => {
    const withoutTypes: ModelTokenizer = { ...tokenizer, inputNames: ["input_ids", "attention_mask"] };
    const err = await rejection(calibrate(options({ tokenizer: withoutTypes })));
    expect(err.code).toBe("INPUT_MISMATCH");
    expect(err.message).toContain("takes [input_ids, attention_mask, token_type_ids]");
    expect(err.message).toContain("produces [input_ids, attention_mask]");
    expect(err.message).toContain("the tokenizer does not produce token_type_ids");
  });

  it("DATASET_INVALID with counts when the articles do not fill one batch", async () => {
    const few: ArticleSet = { ...articles, source: "few.jsonl", articles: articles.articles.slice(0, 10) };
    const err = await rejection(calibrate(options({ articles: few, samples: 16, batchSize: 16 })));
    expect(err.code).toBe("DATASET_INVALID");
    expect(err.message).toContain("few.jsonl has 10 usable article(s)");
    expect(err.message).toContain("fewer than one batch of 16");
  });

  it("DATASET_INVALID with counts when more samples are asked than there are articles", async () => {
    const some: ArticleSet = { ...articles, source: "some.jsonl", articles: articles.articles.slice(0, 40) };
    const err = await rejection(calibrate(options({ articles: some, samples: 64, batchSize: 16 })));
    expect(err.code).toBe("DATASET_INVALID");
    expect(err.message).toContain("some.jsonl has 40 usable article(s)");
    expect(err.message).toContain("64 are needed");
  });

  it("INVALID_LIMIT for settings that cannot work", async () => {
    expect((await rejection(calibrate(options({ samples: 8, batchSize: 16 })))).message).toContain("do not fill one batch of 16");
    expect((await rejection(calibrate(options({ batchSize: 0 })))).code).toBe("INVALID_LIMIT");
    expect((await rejection(calibrate(options({ algorithm: "percentile", percentile: 0 })))).code).toBe("INVALID_LIMIT");
    expect((await rejection(calibrate(options({ trtVersion: "eleven" })))).code).toBe("INVALID_OPTION");
    const tooLong = await rejection(calibrate(options({ seqLen: 513 })));
    expect(tooLong.code).toBe("INVALID_LIMIT");
    expect(tooLong.message).toContain("seqLen 513 is longer than the 512 tokens");
  });

  it("stops between batches when cancelled", async () => {
    const controller = new AbortController();
    const err = await rejection(
      calibrate(
        options({ samples: 2, batchSize: 1, tensors: "quantization-sites", signal: controller.signal, onBatch: () => controller.abort() }),
      ),
    );
    expect(err.code).toBe("CANCELLED");
    expect(err.message).toContain("after 1 of 2 batches");
  });
});

describe("importTrtCache checks the cache against the model", () => {
  const header = "TRT-101600-EntropyCalibration2";

  it("refuses names the model does not have, listing them", async () => {
    const path = join(work, "foreign.cache");
    await writeFile(path, `${header}\nlayer_norm: 3d66ec91\n/encoder/layer.0/Add_output_0: 3c010204\n`);
    const err = await rejection(importTrtCache(path, { onnxPath }));
    expect(err.code).toBe("CALIBRATION_STALE");
    expect(err.message).toContain("1 of the 2 tensors");
    expect(err.message).toContain("/encoder/layer.0/Add_output_0");
  });

  it("drops and counts them with allowMissing, and always drops TensorRT's own names", async () => {
    const path = join(work, "mixed.cache");
    await writeFile(
      path,
      `${header}\nlayer_norm: 3d66ec91\n(Unnamed Layer* 12) [Constant]_output: 3c010204\n/encoder/layer.0/Add_output_0: 3c010204\n`,
    );
    const imported = await importTrtCache(path, { onnxPath, allowMissing: true });
    expect([...imported.scales.keys()]).toEqual(["layer_norm"]);
    expect(imported.trtGenerated).toEqual(["(Unnamed Layer* 12) [Constant]_output"]);
    expect(imported.missing).toEqual(["/encoder/layer.0/Add_output_0"]);
    expect(imported.warnings.join("\n")).toMatch(
      /1 TensorRT-generated tensor name\(s\) dropped[\s\S]*1 tensor\(s\) of the cache are not in the model/,
    );
    expect(imported.uncovered.length).toBe(floatActivations(model).length - 1);
  });

  it("refuses a cache with no tensor of the model, and a model other than the one named", async () => {
    const path = join(work, "other.cache");
    await writeFile(path, `${header}\nsomething_else: 3d66ec91\n`);
    expect((await rejection(importTrtCache(path, { onnxPath, allowMissing: true }))).message).toContain("none of the 1 tensors");
    const good = join(work, "good.cache");
    await writeFile(good, `${header}\nlayer_norm: 3d66ec91\n`);
    const err = await rejection(importTrtCache(good, { onnxPath, onnxSha256: "0".repeat(64) }));
    expect(err.code).toBe("CALIBRATION_STALE");
    expect(err.message).toContain(`but the cache is to be imported for the model with sha256 ${"0".repeat(64)}`);
  });

  it("names the bad line of a damaged cache", async () => {
    const path = join(work, "bad.cache");
    await writeFile(path, `${header}\nlayer_norm: 3d66ec91\nlayer_norm_1 3d66ec91\n`);
    const err = await rejection(importTrtCache(path, { onnxPath }));
    expect(err.code).toBe("CALIBRATION_CACHE_INVALID");
    expect(err.message).toContain(`${path}:3`);
  });
});
