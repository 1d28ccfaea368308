#!/usr/bin/env node
// INT8 calibration, side by side on the same exported MiniLM ONNX and the same AG News articles:
//   ours        @trtforge/calibration (entropy; every float activation, MatMul inputs, and MatMul
//               inputs with every value histogrammed instead of the default 1/31 sample)
//   ort-entropy onnxruntime.quantization's entropy calibrator in Python (MatMul/Gemm)
//   plain       plain onnxruntime-node inference over the same batches (the floor)
// Each side runs in its own child process under /usr/bin/time -v, so that its peak RSS is its own.
// Usage: node benchmarks/calibration.mjs --out result.json [--samples 512] [--batch 32] [--seq 128]
//        [--rounds 1] [--skip-ort] [--onnx model.onnx] [--model <HF folder>] [--articles test.csv]
// Needs a build first (tsc -b packages/calibration) and the Python venv (scripts/setup-python.sh).
// Results and the machine they came from: benchmarks/README.md.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inputOptions, loadArticlesAndTokenizer, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    samples: { type: "string", default: "512" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    rounds: { type: "string", default: "1" },
    "skip-ort": { type: "boolean", default: false },
    ...inputOptions,
    python: { type: "string", default: process.env.TRTFORGE_PYTHON || join(root, ".venv/bin/python") },
    // Internal: run one side in this (child) process and print its JSON result.
    child: { type: "string" },
    scope: { type: "string", default: "all-float" },
    rows: { type: "string" },
    stride: { type: "string" },
  },
});
const samples = Number(values.samples);
const batchSize = Number(values.batch);
const seqLen = Number(values.seq);

async function loadInputs() {
  const { splitArticles } = await import("@trtforge/articles");
  const { articles, tokenizer } = await loadArticlesAndTokenizer(values);
  // The sample calibrate() takes: seed 0, the first `samples` of the seeded order.
  const { sample } = splitArticles(articles, { seed: 0, sampleSize: samples });
  return { articles, tokenizer, sample };
}

// ---- children -------------------------------------------------------------------------------

async function childOurs() {
  const { calibrate } = await import("@trtforge/calibration");
  const { articles, tokenizer } = await loadInputs();
  const started = performance.now();
  const result = await calibrate({
    onnxPath: values.onnx,
    tokenizer,
    articles,
    samples,
    batchSize,
    seqLen,
    algorithm: "entropy",
    tensors: values.scope,
    trtVersion: "10.16.0",
    ...(values.stride === undefined ? {} : { sampleStride: Number(values.stride) }),
  });
  return {
    seconds: (performance.now() - started) / 1000,
    tensors_with_scale: result.scales.size,
    skipped: result.record.skipped.length,
    fetched_per_run: result.fetchedTensors,
    rows_per_run: result.record.rows_per_run,
    sample_stride: result.record.sample_stride,
    masked_tensors: result.maskedTensors.length,
    histogram_bytes: result.histogramBytes,
    run_seconds: result.timing.runSeconds,
    histogram_seconds: result.timing.histogramSeconds,
    threshold_seconds: result.timing.thresholdSeconds,
    peak_rss_bytes_in_process: result.record.peak_rss_bytes,
  };
}

async function childPlain() {
  // The root has no onnxruntime-node of its own: take the calibration package's, the one "ours" runs.
  const ort = createRequire(join(root, "packages/calibration/package.json"))("onnxruntime-node");
  const { InferenceSession, Tensor } = ort;
  const { tokenizer, sample } = await loadInputs();
  const rows = Number(values.rows ?? batchSize);
  const started = performance.now();
  const session = await InferenceSession.create(values.onnx, { graphOptimizationLevel: "all" });
  for (let b = 0; b < sample.length; b += batchSize) {
    const batch = tokenizer.encodeBatch(
      sample.slice(b, b + batchSize).map((a) => a.text),
      { maxLength: seqLen, padding: "max_length", truncation: true },
    );
    for (let r = 0; r < batch.batchSize; r += rows) {
      const n = Math.min(rows, batch.batchSize - r);
      const part = (a) => new Tensor("int64", a.subarray(r * seqLen, (r + n) * seqLen), [n, seqLen]);
      await session.run({
        input_ids: part(batch.inputIds),
        attention_mask: part(batch.attentionMask),
        token_type_ids: part(batch.tokenTypeIds),
      });
    }
  }
  await session.release();
  return {
    seconds: (performance.now() - started) / 1000,
    rows_per_run: rows,
    peak_rss_bytes_in_process: process.resourceUsage().maxRSS * 1024,
  };
}

// onnxruntime.quantization's entropy calibrator as the issue describes it, fed the token ids the
// Node tokenizer produced (so both sides see identical inputs). Timed: create_calibrator (graph
// augmentation, session), collect_data over all batches, compute_data.
const ORT_ENTROPY_PY = String.raw`
import json, resource, sys, tempfile, time, os
import numpy as np
from onnxruntime.quantization.calibrate import CalibrationDataReader, CalibrationMethod, create_calibrator

model, ids_dir, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
shape = json.load(open(os.path.join(ids_dir, "shape.json")))
arrays = {n: np.fromfile(os.path.join(ids_dir, n + ".bin"), dtype="<i8").reshape(shape) for n in ("input_ids", "attention_mask", "token_type_ids")}

class Reader(CalibrationDataReader):
    def __init__(self):
        self.at = 0
    def get_next(self):
        if self.at >= shape[0]:
            return None
        feeds = {n: a[self.at:self.at + batch] for n, a in arrays.items()}
        self.at += batch
        return feeds

with tempfile.TemporaryDirectory() as tmp:
    started = time.perf_counter()
    calibrator = create_calibrator(model, op_types_to_calibrate=["MatMul", "Gemm"], augmented_model_path=os.path.join(tmp, "augmented.onnx"), calibrate_method=CalibrationMethod.Entropy)
    calibrator.collect_data(Reader())
    collected = time.perf_counter()
    ranges = calibrator.compute_data()
    done = time.perf_counter()
print(json.dumps({"seconds": done - started, "collect_seconds": collected - started, "compute_seconds": done - collected,
                  "tensors_with_range": len(ranges.data), "peak_rss_bytes_in_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
`;

// ---- parent ---------------------------------------------------------------------------------

const TIME = "/usr/bin/time";

function runChild(label, command, args) {
  const withTime = existsSync(TIME);
  const [file, argv] = withTime ? [TIME, ["-v", command, ...args]] : [command, args];
  return new Promise((resolvePromise, reject) => {
    execFile(file, argv, { maxBuffer: 64 << 20, env: { ...process.env, HF_HUB_OFFLINE: "1" } }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${label} failed: ${err.message}\n${stderr.split("\n").slice(-20).join("\n")}`));
        return;
      }
      const result = JSON.parse(stdout.trim().split("\n").at(-1));
      const maxKb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(stderr);
      result.peak_rss_bytes = maxKb ? Number(maxKb[1]) * 1024 : result.peak_rss_bytes_in_process;
      result.peak_rss_source = maxKb ? "/usr/bin/time -v (whole child process)" : "getrusage in the child";
      if (wall) result.process_wall = wall[1];
      resolvePromise(result);
    });
  });
}

async function writeTokenIds(dir, tokenizer, sample) {
  const encoded = tokenizer.encodeBatch(
    sample.map((a) => a.text),
    { maxLength: seqLen, padding: "max_length", truncation: true },
  );
  for (const [name, data] of [
    ["input_ids", encoded.inputIds],
    ["attention_mask", encoded.attentionMask],
    ["token_type_ids", encoded.tokenTypeIds],
  ]) {
    await writeFile(join(dir, `${name}.bin`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  await writeFile(join(dir, "shape.json"), JSON.stringify([encoded.batchSize, encoded.seqLen]));
}

const gb = (bytes) => (bytes / 1e9).toFixed(2);

async function parent() {
  if (!values.out) throw new Error("--out <file.json> is required");
  if (!existsSync(values.onnx)) {
    throw new Error(
      `${values.onnx} is missing: run the calibration tests once (they export it), or export with python -m trtforge_export and pass --onnx`,
    );
  }
  const { tokenizer, sample } = await loadInputs();
  const work = await mkdtemp(join(tmpdir(), "calibration-bench-"));
  const self = fileURLToPath(import.meta.url);
  const common = [
    "--samples",
    String(samples),
    "--batch",
    String(batchSize),
    "--seq",
    String(seqLen),
    "--onnx",
    values.onnx,
    "--model",
    values.model,
    "--articles",
    values.articles,
  ];
  const load = [loadavg()[0]];
  const runs = {
    ours_all_float: [],
    ours_matmul_inputs: [],
    ours_matmul_inputs_every_value: [],
    plain: [],
    plain_rows8: [],
    ort_entropy: [],
  };
  try {
    await writeTokenIds(work, tokenizer, sample);
    await writeFile(join(work, "ort_entropy.py"), ORT_ENTROPY_PY);
    const rounds = Number(values.rounds);
    for (let round = 0; round < rounds; round++) {
      // Interleaved, so that load from other processes affects every side alike.
      runs.plain.push(await runChild("plain", process.execPath, [self, "--child", "plain", ...common]));
      runs.ours_all_float.push(await runChild("ours", process.execPath, [self, "--child", "ours", "--scope", "all-float", ...common]));
      runs.ours_matmul_inputs.push(
        await runChild("ours", process.execPath, [self, "--child", "ours", "--scope", "quantization-sites", ...common]),
      );
      runs.ours_matmul_inputs_every_value.push(
        await runChild("ours", process.execPath, [self, "--child", "ours", "--scope", "quantization-sites", "--stride", "1", ...common]),
      );
      runs.plain_rows8.push(await runChild("plain", process.execPath, [self, "--child", "plain", "--rows", "8", ...common]));
      if (!values["skip-ort"])
        runs.ort_entropy.push(
          await runChild("ort-entropy", values.python, [join(work, "ort_entropy.py"), values.onnx, work, String(batchSize)]),
        );
      load.push(loadavg()[0]);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const best = (list) => (list.length === 0 ? undefined : list.reduce((a, b) => (b.seconds < a.seconds ? b : a)));
  const side = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, best(v)]));
  const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b);
  const ratios = {
    ort_entropy_time_over_ours_all_float: ratio(side.ort_entropy?.seconds, side.ours_all_float.seconds),
    ort_entropy_time_over_ours_matmul_inputs: ratio(side.ort_entropy?.seconds, side.ours_matmul_inputs.seconds),
    ours_all_float_rss_over_ort_entropy: ratio(side.ours_all_float.peak_rss_bytes, side.ort_entropy?.peak_rss_bytes),
    ours_matmul_inputs_rss_over_ort_entropy: ratio(side.ours_matmul_inputs.peak_rss_bytes, side.ort_entropy?.peak_rss_bytes),
    ours_all_float_time_over_plain: ratio(side.ours_all_float.seconds, side.plain.seconds),
    ours_matmul_inputs_time_over_plain: ratio(side.ours_matmul_inputs.seconds, side.plain.seconds),
    // The floor is the faster way to run plain inference on this machine.
    ours_all_float_time_over_fastest_plain: ratio(side.ours_all_float.seconds, Math.min(side.plain.seconds, side.plain_rows8.seconds)),
    ours_matmul_inputs_time_over_fastest_plain: ratio(
      side.ours_matmul_inputs.seconds,
      Math.min(side.plain.seconds, side.plain_rows8.seconds),
    ),
    ours_matmul_inputs_every_value_time_over_fastest_plain: ratio(
      side.ours_matmul_inputs_every_value.seconds,
      Math.min(side.plain.seconds, side.plain_rows8.seconds),
    ),
  };
  const command = `node benchmarks/calibration.mjs ${process.argv.slice(2).join(" ")}`;
  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    total_memory_bytes: totalmem(),
    node: process.version,
    load_average_1min: load,
  };
  const result = {
    command,
    samples,
    batch_size: batchSize,
    seq_len: seqLen,
    onnx: values.onnx,
    articles: values.articles,
    machine,
    best: side,
    ratios,
    runs,
  };
  await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);

  const rows = [
    [
      `ours: entropy, every float activation (--typing weak: TensorRT 10 cache), 1/${side.ours_all_float.sample_stride} sampled`,
      side.ours_all_float,
      `${side.ours_all_float.tensors_with_scale} tensors`,
    ],
    [
      `ours: entropy, MatMul inputs (Q/DQ sites, --typing strong, the default), 1/${side.ours_matmul_inputs.sample_stride} sampled`,
      side.ours_matmul_inputs,
      `${side.ours_matmul_inputs.tensors_with_scale} tensors`,
    ],
    [
      "ours: entropy, MatMul inputs, every value (--calibration-sample-stride 1)",
      side.ours_matmul_inputs_every_value,
      `${side.ours_matmul_inputs_every_value.tensors_with_scale} tensors`,
    ],
    [
      "onnxruntime.quantization entropy (MatMul/Gemm)",
      side.ort_entropy,
      side.ort_entropy ? `${side.ort_entropy.tensors_with_range} tensors` : "skipped",
    ],
    [`plain onnxruntime-node inference, ${batchSize} rows per run`, side.plain, "-"],
    ["plain onnxruntime-node inference, 8 rows per run", side.plain_rows8, "-"],
  ];
  const fmt = (x) => (x === undefined ? "-" : x.toFixed(2));
  process.stdout.write(
    `$ ${command}\n${samples} articles, seq ${seqLen}, batch ${batchSize}; ${machine.cpus} CPUs, load average ${load.map((l) => l.toFixed(2)).join(" → ")}\n\n`,
  );
  process.stdout.write("| side | wall s | peak RSS GB | calibrated |\n|---|---|---|---|\n");
  for (const [name, s, what] of rows)
    process.stdout.write(`| ${name} | ${s ? s.seconds.toFixed(1) : "-"} | ${s ? gb(s.peak_rss_bytes) : "-"} | ${what} |\n`);
  process.stdout.write(
    `\nORT entropy time / ours: ${fmt(ratios.ort_entropy_time_over_ours_all_float)}× (every float activation), ${fmt(ratios.ort_entropy_time_over_ours_matmul_inputs)}× (MatMul inputs) — goal ≥ 3\n` +
      `ours peak RSS / ORT entropy: ${fmt(ratios.ours_all_float_rss_over_ort_entropy)} (every float activation), ${fmt(ratios.ours_matmul_inputs_rss_over_ort_entropy)} (MatMul inputs) — goal ≤ 0.25\n` +
      `ours time / plain inference at ${batchSize} rows per run: ${fmt(ratios.ours_all_float_time_over_plain)} (every float activation), ${fmt(ratios.ours_matmul_inputs_time_over_plain)} (MatMul inputs) — goal ≤ 1.3\n` +
      `ours time / fastest plain inference: ${fmt(ratios.ours_all_float_time_over_fastest_plain)} (every float activation), ${fmt(ratios.ours_matmul_inputs_time_over_fastest_plain)} (MatMul inputs), ${fmt(ratios.ours_matmul_inputs_every_value_time_over_fastest_plain)} (MatMul inputs, every value) — goal ≤ 1.3\n` +
      `JSON: ${values.out}\n`,
  );
}

if (values.child === "ours") process.stdout.write(`${JSON.stringify(await childOurs())}\n`);
else if (values.child === "plain") process.stdout.write(`${JSON.stringify(await childPlain())}\n`);
else if (values.child !== undefined) throw new Error(`unknown --child ${values.child}`);
else await parent();
