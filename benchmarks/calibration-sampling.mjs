#!/usr/bin/env node
// What sampling does to the scales: calibrate() with every value (sample stride 1) and with the
// default stride, on the same MiniLM ONNX and AG News articles, for each algorithm; reports the
// relative difference of every tensor's amax between the two, and both wall times. With
// --other-articles it also calibrates every value on a disjoint sample of articles (seed 1), to
// set the sampling difference against what another choice of articles does.
// Usage: node benchmarks/calibration-sampling.mjs --out sampling.json [--samples 512] [--stride 31]
//        [--scope all-float|quantization-sites] [--algorithms entropy,max,percentile,mse]
// Needs a build first (tsc -b packages/calibration). Results: benchmarks/README.md.
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { inputOptions, loadArticlesAndTokenizer } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    samples: { type: "string", default: "512" },
    stride: { type: "string" },
    scope: { type: "string", default: "all-float" },
    algorithms: { type: "string", default: "max,entropy,percentile,mse" },
    "other-articles": { type: "boolean", default: false },
    ...inputOptions,
  },
});
if (!values.out) throw new Error("--out <file.json> is required");
const { calibrate, DEFAULT_SAMPLE_STRIDE } = await import("@trtforge/calibration");
const { articles, tokenizer } = await loadArticlesAndTokenizer(values);
const stride = Number(values.stride ?? DEFAULT_SAMPLE_STRIDE);

async function run(algorithm, sampleStride, seed = 0) {
  const started = performance.now();
  const result = await calibrate({
    onnxPath: values.onnx,
    tokenizer,
    articles,
    samples: Number(values.samples),
    batchSize: 32,
    seqLen: 128,
    algorithm,
    tensors: values.scope,
    trtVersion: "10.16.0",
    sampleStride,
    seed,
  });
  return { seconds: (performance.now() - started) / 1000, amax: result.amax, timing: result.timing };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
function compare(a, b) {
  const diffs = [];
  for (const [tensor, x] of a.amax) {
    const y = b.amax.get(tensor);
    if (y !== undefined) diffs.push({ tensor, full: x, sampled: y, relative: Math.abs(y - x) / x });
  }
  diffs.sort((p, q) => p.relative - q.relative);
  const rel = diffs.map((d) => d.relative);
  return {
    diffs,
    summary: {
      median: quantile(rel, 0.5),
      p90: quantile(rel, 0.9),
      max: rel.at(-1) ?? 0,
      mean: rel.reduce((p, q) => p + q, 0) / Math.max(1, rel.length),
    },
  };
}
const fmt = (x) => x.toExponential(2);
const results = [];
for (const algorithm of values.algorithms.split(",")) {
  // Interleaved per algorithm, so that machine load affects both alike.
  const full = await run(algorithm, 1);
  const sampled = await run(algorithm, stride);
  const { diffs, summary } = compare(full, sampled);
  const row = {
    algorithm,
    tensors: diffs.length,
    full_seconds: full.seconds,
    sampled_seconds: sampled.seconds,
    speedup: full.seconds / sampled.seconds,
    relative_amax_difference: summary,
    worst: diffs.slice(-3).reverse(),
  };
  if (values["other-articles"]) row.other_articles_relative_amax_difference = compare(full, await run(algorithm, 1, 1)).summary;
  results.push(row);
  console.log(
    `${algorithm}: ${row.tensors} tensors, |amax(stride ${stride}) - amax(all)| / amax: median ${fmt(summary.median)}, p90 ${fmt(summary.p90)}, max ${fmt(summary.max)}; ${full.seconds.toFixed(1)} s → ${sampled.seconds.toFixed(1)} s`,
  );
  const other = row.other_articles_relative_amax_difference;
  if (other)
    console.log(
      `${algorithm}: every value, other articles (seed 1): median ${fmt(other.median)}, p90 ${fmt(other.p90)}, max ${fmt(other.max)}`,
    );
}
await writeFile(
  values.out,
  `${JSON.stringify({ stride, scope: values.scope, samples: Number(values.samples), node: process.version, load_average_1m: loadavg()[0], results }, null, 2)}\n`,
);
