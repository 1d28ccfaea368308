#!/usr/bin/env node
// planW8A8 end to end on the fp32 MiniLM ONNX, as the build pipeline runs it (issue 24): max
// calibration at the demo profile's calibrationLengths over the first 300 articles of
// conf/samples/ag_news_1000.jsonl, the plan on 64 of them (probe [2, 256], guards [1, 1], [2, 32],
// [2, 128]), then the Q/DQ ONNX and the plan's choices written to --out-dir. The held-out cosine of
// that ONNX is measured by `benchmarks/int8-w8a8-search.py --evaluate <dir>/qdq.onnx` (articles 501 on).
// Usage: node benchmarks/w8a8-plan.mjs --out-dir DIR [--samples 64] [--before]
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inputOptions, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    ...inputOptions,
    articles: { type: "string", default: join(root, "conf/samples/ag_news_1000.jsonl") },
    "out-dir": { type: "string" },
    samples: { type: "string", default: "64" },
    // The plan before issue 24's search (s8a): GELU outputs at their max, clips from {1, 0.5, 0.25}.
    before: { type: "boolean", default: false },
  },
});
if (values["out-dir"] === undefined) throw new Error("--out-dir is required");
const { readArticles } = await import("@trtforge/articles");
const { loadTokenizer } = await import("@trtforge/tokenizer");
const { loadOnnxModel, insertQdq, saveOnnxModel } = await import("@trtforge/onnx-graph");
const { calibrate, planW8A8 } = await import("@trtforge/calibration");

const started = performance.now();
const all = await readArticles(values.articles);
const articles = { ...all, articles: all.articles.slice(0, 300) };
const [tokenizer, model] = await Promise.all([loadTokenizer(values.model), loadOnnxModel(values.onnx)]);
const calibrated = await calibrate({
  onnxPath: values.onnx,
  tokenizer,
  articles,
  samples: Number(values.samples),
  batchSize: 8,
  lengths: [32, 128, 192, 256],
  algorithm: "max",
  tensors: "quantization-sites",
  trtVersion: "10.16.0",
});
const calibratedAt = performance.now();
const plan = await planW8A8({
  model,
  onnxPath: values.onnx,
  scales: calibrated.scales,
  tokenizer,
  texts: articles.articles.slice(0, 64).map((a) => a.text),
  outputs: ["sentence_embedding"],
  ...(values.before ? { geluAmax: "max", probabilityClipFactors: [1, 0.5, 0.25] } : {}),
  shape: { name: "probe", batch: 2, seqLen: 256 },
  guardShapes: [
    { name: "guard-1", batch: 1, seqLen: 1 },
    { name: "guard-32", batch: 2, seqLen: 32 },
    { name: "guard-128", batch: 2, seqLen: 128 },
  ],
});
const out = values["out-dir"];
await mkdir(out, { recursive: true });
await saveOnnxModel(insertQdq(plan.model, { activationScales: plan.scales, floatNodes: plan.floatNodes }).model, join(out, "qdq.onnx"));
const summary = {
  float_matmuls: [...plan.floatNodes],
  probability_clips: Object.fromEntries(plan.probabilityClips),
  gelu_amax_fractions: Object.fromEntries(plan.geluAmaxFractions),
  sensitivity: plan.sensitivity.slice(0, 10),
  calibration_seconds: (calibratedAt - started) / 1000,
  plan_seconds: (performance.now() - calibratedAt) / 1000,
};
await writeFile(join(out, "plan.json"), `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
