#!/usr/bin/env node
// INT8 accuracy of all-MiniLM-L6-v2 embeddings against fp32, side by side in one run, on the same
// calibration articles and the same 1,000 held-out AG News articles:
//   ours  what the pipeline's precision stage does (packages/pipeline/src/precision-stage.ts):
//         calibrate() (max, the default, and entropy) → selectInt8Activations (target cosine on the
//         first 64 calibration articles) → insertQdq; and plain all-int8 (no fallback) per algorithm
//   ORT   onnxruntime.quantization.quantize_static (QDQ, per-channel int8 weights) with each
//         calibrate_method, on MatMul only and on its default op set, activations QInt8 symmetric
//         (the form TensorRT takes) and QUInt8, and on MatMul with OpTypesToExcludeOutputQuantization
//         (MatMul inputs only, as ours), also with ours' float MatMuls excluded (nodes_to_exclude, the
//         same int8 coverage as ours); one Python process per configuration
//         (benchmarks/ort_quantize_static.py), capped in time and memory, fed the token ids the Node
//         tokenizer produced for the calibration articles
// Every model is measured with the same compareModels (packages/accuracy) against the fp32 ONNX.
// Usage: node benchmarks/int8-accuracy.mjs --out int8-accuracy.json [--onnx model.onnx] [--skip-ort]
//        [--ours max,entropy] [--ours-scope quantization-sites|all-float] [--ours-stride 31] [--ort-methods MinMax,Entropy,Percentile,Distribution]
//        [--ort-ops MatMul,MatMul-inputs,MatMul-inputs-oursfloat,default] [--ort-activations qint8-sym,quint8] [--ort-timeout 1800]
//        [--ort-max-vm-gb 20] [--ort-stride 4] [--work dir] [--keep]
// Needs the packages built (tsc -b packages/pipeline packages/cli) and the Python venv.
// Results and the machine they came from: benchmarks/README.md.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { inputOptions, loadArticlesAndTokenizer, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    onnx: { type: "string" },
    model: inputOptions.model,
    "model-id": { type: "string", default: "sentence-transformers/all-MiniLM-L6-v2" },
    articles: inputOptions.articles,
    python: { type: "string", default: process.env.TRTFORGE_PYTHON || join(root, ".venv/bin/python") },
    samples: { type: "string", default: "512" },
    "held-out": { type: "string", default: "1000" },
    "selection-articles": { type: "string", default: "64" },
    seed: { type: "string", default: "0" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    target: { type: "string", default: "0.99" },
    ours: { type: "string", default: "max,entropy" },
    // What the pipeline calibrates for --typing strong (its default), and its default sample stride.
    "ours-scope": { type: "string", default: "quantization-sites" },
    "ours-stride": { type: "string", default: "31" },
    "skip-ort": { type: "boolean", default: false },
    "ort-methods": { type: "string", default: "MinMax,Entropy,Percentile,Distribution" },
    "ort-ops": { type: "string", default: "MatMul,MatMul-inputs,MatMul-inputs-oursfloat,default" },
    "ort-activations": { type: "string", default: "qint8-sym,quint8" },
    "ort-timeout": { type: "string", default: "1800" },
    "ort-max-vm-gb": { type: "string", default: "20" },
    "ort-stride": { type: "string", default: "4" },
    "no-ort-preprocess": { type: "boolean", default: false },
    work: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
if (!values.out) throw new Error("--out <file.json> is required");
const samples = Number(values.samples);
const heldOutSize = Number(values["held-out"]);
const selectionArticles = Number(values["selection-articles"]);
const seed = Number(values.seed);
const batchSize = Number(values.batch);
const seqLen = Number(values.seq);
const target = Number(values.target);
const list = (s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const command = `node benchmarks/int8-accuracy.mjs ${process.argv.slice(2).join(" ")}`.trim();
process.stdout.write(`$ ${command}\n`);

const { splitArticles } = await import("@trtforge/articles");
const { calibrate } = await import("@trtforge/calibration");
const { selectInt8Activations } = await import("@trtforge/pipeline");
const { insertQdq, loadOnnxModel, mainGraph, saveOnnxModel } = await import("@trtforge/onnx-graph");
const { compareModels } = await import("@trtforge/accuracy");

const log = (line) => process.stderr.write(`[int8-accuracy ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const seconds = (from) => (performance.now() - from) / 1000;

// ---- child processes --------------------------------------------------------------------------

/** Runs a command in its own process group; kills the group after `timeoutSeconds`. */
function run(file, args, { timeoutSeconds, cwd = root } = {}) {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const child = spawn(file, args, {
      cwd,
      detached: true,
      env: { ...process.env, HF_HUB_OFFLINE: "1", PYTHONUNBUFFERED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout = (stdout + d).slice(-1 << 20);
    });
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-1 << 16);
    });
    let timedOut = false;
    const timer = timeoutSeconds
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // The process group is already gone.
          }
        }, timeoutSeconds * 1000)
      : undefined;
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const last = stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .at(-1);
      let json;
      try {
        json = last ? JSON.parse(last) : undefined;
      } catch {
        // A last line that is not JSON: the run reports no result.
      }
      resolvePromise({ code, signal, timedOut, wall_seconds: seconds(started), json, stdout, stderr });
    });
  });
}

// ---- measurements -----------------------------------------------------------------------------

/** MatMul/Gemm data inputs (A and B) read through a DequantizeLinear, of all MatMul/Gemm data inputs. */
function matmulInt8Share(model) {
  const graph = mainGraph(model);
  const producer = new Map();
  for (const node of graph.node) for (const out of node.output) producer.set(out, node);
  let total = 0;
  let int8 = 0;
  for (const node of graph.node) {
    if (node.op_type !== "MatMul" && node.op_type !== "Gemm") continue;
    for (const input of node.input.slice(0, 2)) {
      total++;
      if (producer.get(input)?.op_type === "DequantizeLinear") int8++;
    }
  }
  const qdqNodes = graph.node.filter((n) => n.op_type === "QuantizeLinear").length;
  // Other nodes (residual Add, LayerNormalization, Softmax...) reading an activation through Q/DQ:
  // quantization error that reaches more than the MatMuls.
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const otherReaders = {};
  for (const node of graph.node) {
    if (node.op_type === "MatMul" || node.op_type === "Gemm" || node.op_type === "QuantizeLinear" || node.op_type === "DequantizeLinear")
      continue;
    for (const input of node.input) {
      const dq = producer.get(input);
      if (dq?.op_type === "DequantizeLinear" && !initializers.has(dq.input[0]) && producer.get(dq.input[0])?.op_type === "QuantizeLinear") {
        otherReaders[node.op_type] = (otherReaders[node.op_type] ?? 0) + 1;
      }
    }
  }
  return { int8, total, share: total === 0 ? 0 : int8 / total, quantize_linear_nodes: qdqNodes, other_readers_of_quantized: otherReaders };
}

// ---- setup ------------------------------------------------------------------------------------

const work = values.work ? resolve(values.work) : await mkdtemp(join(tmpdir(), "int8-accuracy-"));
await mkdir(work, { recursive: true });
const load = [loadavg()[0]];
const result = {
  command,
  started: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    total_memory_bytes: totalmem(),
    node: process.version,
    load_average_1min: load,
  },
  settings: {
    samples,
    held_out: heldOutSize,
    selection_articles: selectionArticles,
    seed,
    batch_size: batchSize,
    seq_len: seqLen,
    target_cosine: target,
    max_fallback_share: 0.25,
  },
  rows: [],
};
const save = () => writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);

let onnxPath = values.onnx ? resolve(values.onnx) : undefined;
if (onnxPath === undefined) {
  const out = join(work, "fp32");
  const args = [
    join(root, "packages/cli/bin/build-engine.js"),
    "export",
    "--model",
    values.model,
    "--out",
    out,
    "--model-id",
    values["model-id"],
    "--force",
  ];
  log(`exporting fp32: node ${args.join(" ")}`);
  const exported = await run(process.execPath, args, { timeoutSeconds: 1800 });
  if (exported.code !== 0) throw new Error(`export failed (${exported.code ?? exported.signal}):\n${exported.stderr.slice(-4000)}`);
  onnxPath = join(out, "model.onnx");
  result.export = { command: `node packages/cli/bin/build-engine.js ${args.slice(1).join(" ")}`, seconds: exported.wall_seconds };
}
const fp32Bytes = await readFile(onnxPath);
const fp32Model = await loadOnnxModel(onnxPath);
const outputs = mainGraph(fp32Model).output.map((o) => o.name);
result.fp32 = { onnx: onnxPath, sha256: createHash("sha256").update(fp32Bytes).digest("hex"), outputs, matmul: matmulInt8Share(fp32Model) };
log(`fp32 ONNX ${onnxPath} (outputs ${outputs.join(", ")})`);

const { articles, tokenizer } = await loadArticlesAndTokenizer(values);
// The split the precision stage makes: the calibration sample first, then disjoint held-out articles.
const { sample, heldOut } = splitArticles(articles, { seed, sampleSize: samples, heldOutSize });
const heldOutTexts = heldOut.map((a) => a.text);
result.articles = {
  file: values.articles,
  sha256: articles.sha256,
  usable: articles.articles.length,
  calibration: sample.length,
  held_out: heldOut.length,
};

async function evaluate(row, candidatePath) {
  const started = performance.now();
  const figures = await compareModels({
    reference: onnxPath,
    candidate: candidatePath,
    referenceLabel: "fp32-onnx",
    candidateLabel: row.method,
    tokenizer,
    texts: heldOutTexts,
    outputs,
    seqLen,
    batchSize,
  });
  row.accuracy = Object.fromEntries(
    figures.map((f) => [
      f.output,
      { cosine_mean: f.cosine_mean, cosine_min: f.cosine_min, max_abs_diff: f.max_abs_diff, samples: f.samples },
    ]),
  );
  row.eval_seconds = seconds(started);
  row.matmul = matmulInt8Share(await loadOnnxModel(candidatePath));
  const s = row.accuracy.sentence_embedding;
  log(
    `${row.method}: sentence_embedding cosine mean ${s?.cosine_mean.toFixed(5)} min ${s?.cosine_min.toFixed(5)}; MatMul inputs int8 ${row.matmul.int8}/${row.matmul.total}`,
  );
}

async function addRow(row, candidatePath) {
  result.rows.push(row);
  if (candidatePath !== undefined) {
    try {
      await evaluate(row, candidatePath);
    } catch (err) {
      row.status = "evaluation failed";
      row.error = String(err?.message ?? err).slice(0, 2000);
      log(`${row.method}: evaluation failed: ${row.error}`);
    }
  }
  await save();
}

// ---- ours -------------------------------------------------------------------------------------

for (const algorithm of list(values.ours)) {
  log(`ours: calibrate (${algorithm}) on ${samples} articles`);
  const started = performance.now();
  const calibrated = await calibrate({
    onnxPath,
    tokenizer,
    articles,
    samples,
    batchSize,
    seqLen,
    seed,
    algorithm,
    trtVersion: "10.16.0",
    tensors: values["ours-scope"],
    sampleStride: Number(values["ours-stride"]),
  });
  const calibrationSeconds = seconds(started);
  const steps = [];
  const shim = {
    info: (obj, msg) => {
      steps.push(obj);
      log(`  ${msg}: ${JSON.stringify(obj)}`);
    },
    warn: (obj, msg) => log(`  warning: ${msg}: ${JSON.stringify(obj)}`),
  };
  const selectionStarted = performance.now();
  const selection = await selectInt8Activations({
    model: fp32Model,
    scales: calibrated.scales,
    quantError: calibrated.quantError,
    tokenizer,
    texts: sample.slice(0, selectionArticles).map((a) => a.text),
    outputs,
    target,
    maxFallbackShare: 0.25,
    seqLen,
    batchSize,
    logger: shim,
  });
  const selectionSeconds = seconds(selectionStarted);
  const common = {
    side: "ours",
    algorithm,
    status: "ok",
    calibration_seconds: calibrationSeconds,
    calibration_record_seconds: calibrated.record.seconds,
    calibration_peak_rss_bytes: calibrated.record.peak_rss_bytes,
    tensors_with_scale: calibrated.scales.size,
    tensor_scope: calibrated.record.tensor_scope,
    sample_stride: calibrated.record.sample_stride,
    calibration_rows: calibrated.record.samples,
  };
  const fallback = insertQdq(fp32Model, { activationScales: selection.scales });
  const fallbackPath = join(work, `ours-${algorithm}-fallback.qdq.onnx`);
  await saveOnnxModel(fallback.model, fallbackPath);
  await addRow(
    {
      ...common,
      method: `ours ${algorithm} + float fallback (pipeline${algorithm === "max" ? " default" : ""})`,
      variant: "fallback",
      selection_seconds: selectionSeconds,
      selection_cosine: selection.cosine,
      selection_steps: steps,
      float_activations: selection.float,
      unquantized_sites: fallback.unquantizedSites.length,
    },
    fallbackPath,
  );
  const plain = insertQdq(fp32Model, { activationScales: calibrated.scales });
  const plainPath = join(work, `ours-${algorithm}-all-int8.qdq.onnx`);
  await saveOnnxModel(plain.model, plainPath);
  await addRow(
    {
      ...common,
      method: `ours ${algorithm}, all int8 (no fallback)`,
      variant: "all-int8",
      float_activations: [],
      unquantized_sites: plain.unquantizedSites.length,
    },
    plainPath,
  );
}

// ---- ONNX Runtime quantize_static ---------------------------------------------------------------

// Op configurations: MatMul (ORT's transformer setting), MatMul-inputs (the same, with
// OpTypesToExcludeOutputQuantization=["MatMul"] so that, like ours, only MatMul inputs are
// quantized), default (quantize_static's own op set).
const opConfigs = {
  MatMul: { opTypes: "MatMul", excludeOutput: null, label: "MatMul" },
  "MatMul-inputs": { opTypes: "MatMul", excludeOutput: "MatMul", label: "MatMul inputs only" },
  // The same, with nodes_to_exclude = the MatMuls ours keeps in float (its first fallback row,
  // the pipeline default max when run): the same int8 coverage as ours, ORT's ranges.
  "MatMul-inputs-oursfloat": {
    opTypes: "MatMul",
    excludeOutput: "MatMul",
    excludeOursFloat: true,
    label: "MatMul inputs only, ours' float MatMuls excluded",
  },
  default: { opTypes: "default", excludeOutput: null, label: "default op set" },
};
const opConfigOf = (row) => opConfigs[row.ops];

if (!values["skip-ort"]) {
  const helper = join(root, "benchmarks/ort_quantize_static.py");
  const timeoutSeconds = Number(values["ort-timeout"]);
  const maxVm = values["ort-max-vm-gb"];
  const ortDir = join(work, "ort");
  await mkdir(ortDir, { recursive: true });

  // The token ids ours calibrates on: the same articles, batches, truncation and padding.
  const encoded = tokenizer.encodeBatch(
    sample.map((a) => a.text),
    { maxLength: seqLen, padding: "max_length", truncation: true },
  );
  const rows2d = (a) =>
    Array.from({ length: encoded.batchSize }, (_, r) => Array.from(a.subarray(r * encoded.seqLen, (r + 1) * encoded.seqLen), Number));
  const calibJson = JSON.stringify({
    shape: [encoded.batchSize, encoded.seqLen],
    input_ids: rows2d(encoded.inputIds),
    attention_mask: rows2d(encoded.attentionMask),
    token_type_ids: rows2d(encoded.tokenTypeIds),
  });
  const calibPath = join(ortDir, "calibration-ids.json");
  await writeFile(calibPath, calibJson);
  result.ort = {
    calibration_ids: { rows: encoded.batchSize, seq_len: encoded.seqLen, sha256: createHash("sha256").update(calibJson).digest("hex") },
    timeout_seconds: timeoutSeconds,
    max_vm_gb: Number(maxVm),
  };

  let ortInput = onnxPath;
  if (!values["no-ort-preprocess"]) {
    const prePath = join(ortDir, "fp32.preprocessed.onnx");
    log("ORT: quant_pre_process");
    const pre = await run(values.python, [helper, "preprocess", "--model", onnxPath, "--out", prePath, "--max-vm-gb", maxVm], {
      timeoutSeconds,
    });
    result.ort.preprocess = pre.json ?? { status: "crashed", code: pre.code, signal: pre.signal, stderr: pre.stderr.slice(-2000) };
    if (pre.json?.status === "ok") {
      ortInput = prePath;
      await addRow(
        { side: "control", method: "ORT quant_pre_process fp32 (no quantization)", status: "ok", preprocess_options: pre.json.options },
        prePath,
      );
    } else {
      log(`ORT pre-processing failed, quantizing the export as it is: ${JSON.stringify(result.ort.preprocess).slice(0, 500)}`);
    }
  }

  const stride = Number(values["ort-stride"]);
  // Calibration depends on the op types only, so each (op types, method) is calibrated once;
  // later runs load quantize_static's calibration cache.
  const calibrations = new Map(); // cache file → { row, seconds, tensors, strided }
  const oursFallback = result.rows.find((r) => r.side === "ours" && r.variant === "fallback" && r.status === "ok");
  let oursFloatNodes;
  if (oursFallback) {
    const float = new Set(oursFallback.float_activations);
    const graph = mainGraph(await loadOnnxModel(ortInput));
    oursFloatNodes = graph.node
      .filter((n) => (n.op_type === "MatMul" || n.op_type === "Gemm") && n.input.some((t) => float.has(t)))
      .map((n) => n.name);
    result.ort.ours_float = { from: oursFallback.method, activations: oursFallback.float_activations, nodes_to_exclude: oursFloatNodes };
  }
  const failedCalibrations = new Map(); // `${opTypes}/${method}` → label of the run whose calibration failed
  for (const ops of list(values["ort-ops"])) {
    const config = opConfigs[ops];
    if (!config) throw new Error(`unknown --ort-ops entry ${ops} (${Object.keys(opConfigs).join(", ")})`);
    for (const method of list(values["ort-methods"])) {
      const key = `${config.opTypes}/${method}`;
      const plainCache = join(ortDir, `cache-${config.opTypes}-${method}.json`);
      const stridedCache = join(ortDir, `cache-${config.opTypes}-${method}-stride${stride}.json`);
      for (const activation of list(values["ort-activations"])) {
        const label = `ORT ${method}, ${config.label}, ${activation === "qint8-sym" ? "QInt8 sym" : "QUInt8"}`;
        const row = { side: "ort", method: label, calibrate_method: method, ops, activation, attempts: [] };
        if (failedCalibrations.has(key)) {
          Object.assign(row, {
            status: "not run",
            error: `calibration failed in the ${failedCalibrations.get(key)} run (calibration depends on method and op types only)`,
          });
          await addRow(row);
          continue;
        }
        if (config.excludeOursFloat && !oursFloatNodes?.length) {
          Object.assign(row, { status: "not run", error: "no float activations from ours to exclude (run ours with a fallback first)" });
          await addRow(row);
          continue;
        }
        const outPath = join(ortDir, `${ops}-${method}-${activation}.qdq.onnx`);
        // A single pass unless only a strided calibration exists (a single pass ran out of memory before).
        let strided = !existsSync(plainCache) && existsSync(stridedCache);
        let final;
        for (;;) {
          const cache = strided ? stridedCache : plainCache;
          const args = [
            helper,
            "quantize",
            "--model",
            ortInput,
            "--calib",
            calibPath,
            "--out",
            outPath,
            "--method",
            method,
            "--ops",
            config.opTypes,
            "--activation",
            activation,
            "--batch",
            String(batchSize),
            "--cache",
            cache,
            "--max-vm-gb",
            maxVm,
          ];
          if (config.excludeOutput) args.push("--exclude-output-quantization", config.excludeOutput);
          if (config.excludeOursFloat) args.push("--nodes-to-exclude", oursFloatNodes.join(","));
          if (strided) args.push("--stride", String(stride));
          log(`${label}${strided ? ` (strided, ${stride} batches at a time)` : ""}`);
          const r = await run(values.python, args, { timeoutSeconds });
          const status = r.timedOut
            ? `timed out after ${timeoutSeconds} s`
            : (r.json?.status ??
              (r.signal === "SIGKILL" ? "killed (SIGKILL, likely out of memory)" : `crashed (${r.signal ?? `exit ${r.code}`})`));
          const attempt = {
            status,
            strided,
            cache,
            wall_seconds: r.wall_seconds,
            ...(r.json ?? {}),
            ...(r.json ? {} : { stderr: r.stderr.slice(-3000) }),
          };
          delete attempt.traceback;
          if (r.json?.traceback) attempt.traceback_tail = r.json.traceback.slice(-1500);
          row.attempts.push(attempt);
          final = attempt;
          log(
            `  → ${status}${attempt.error ? `: ${attempt.error.slice(0, 300)}` : ""} (${r.wall_seconds.toFixed(1)} s, peak RSS ${((attempt.peak_rss_bytes ?? 0) / 1e9).toFixed(2)} GB)`,
          );
          if (!attempt.cache_hit && existsSync(cache) && !calibrations.has(cache)) {
            const timing = attempt.calibration_timing ?? {};
            calibrations.set(cache, {
              row: label,
              seconds: Object.values(timing).reduce((a, b) => a + b, 0),
              tensors: attempt.tensors_calibrated,
              peak_rss_bytes: attempt.peak_rss_bytes,
            });
          }
          const outOfMemory = status === "out-of-memory" || status.startsWith("killed");
          if (outOfMemory && !strided && !attempt.cache_hit && stride > 0) {
            strided = true;
            continue;
          }
          break;
        }
        const calibration = calibrations.get(final.cache);
        Object.assign(row, {
          status: final.status,
          strided: strided
            ? {
                batches_per_pass: stride,
                articles_per_pass: stride * batchSize,
                passes: Math.ceil(encoded.batchSize / (stride * batchSize)),
              }
            : null,
          calibration_rows: encoded.batchSize,
          peak_rss_bytes: final.peak_rss_bytes,
          quantize_static_seconds: final.seconds,
          quantize_static_args: final.quantize_static_args,
          calibration_seconds: calibration?.seconds,
          calibration_peak_rss_bytes: calibration?.peak_rss_bytes,
          calibration_from_cache_of: final.cache_hit ? (calibration?.row ?? "an earlier run") : null,
          tensors_calibrated: calibration?.tensors,
        });
        if (final.status === "ok") {
          await addRow(row, outPath);
        } else {
          row.error = final.error ?? final.status;
          // No cache written: calibration itself failed, and another activation type or op configuration would repeat it.
          if (!existsSync(final.cache)) failedCalibrations.set(key, label);
          await addRow(row);
        }
        load.push(loadavg()[0]);
      }
    }
  }
}

// ---- verdict and table ------------------------------------------------------------------------

const cos = (row, output, key = "cosine_mean") => row.accuracy?.[output]?.[key];
const measured = result.rows.filter((r) => r.accuracy);
const byEmbedding = (a, b) => (cos(b, "sentence_embedding") ?? -1) - (cos(a, "sentence_embedding") ?? -1);
// ORT on its own (its configurations), and ORT given ours' float set (the same int8 coverage).
const ortOwn = measured.filter((r) => r.side === "ort" && !opConfigOf(r)?.excludeOursFloat).sort(byEmbedding);
const ortSame = measured.filter((r) => r.side === "ort" && opConfigOf(r)?.excludeOursFloat).sort(byEmbedding);
const best = {
  ort: ortOwn[0],
  ort_qint8_sym: ortOwn.filter((r) => r.activation === "qint8-sym")[0],
  ort_same_float_set: ortSame[0],
  ort_same_float_set_qint8_sym: ortSame.filter((r) => r.activation === "qint8-sym")[0],
};
result.ort_best = Object.fromEntries(
  Object.entries(best).map(([k, r]) => [
    k,
    r
      ? {
          method: r.method,
          sentence_embedding_cosine_mean: cos(r, "sentence_embedding"),
          last_hidden_state_cosine_mean: cos(r, "last_hidden_state"),
        }
      : null,
  ]),
);
result.verdicts = measured
  .filter((r) => r.side === "ours")
  .map((r) => {
    const embedding = cos(r, "sentence_embedding");
    const allOutputs = Math.min(...outputs.map((o) => cos(r, o)));
    const vs = (b, every = false) =>
      b === undefined ? null : every ? outputs.every((o) => cos(r, o) >= cos(b, o)) : embedding >= cos(b, "sentence_embedding");
    // Equal coverage: only the fallback row whose float set ORT was given.
    const same = r.method === result.ort?.ours_float?.from;
    return {
      method: r.method,
      sentence_embedding_cosine_mean: embedding,
      meets_target_sentence_embedding: embedding >= target,
      meets_target_every_output: allOutputs >= target,
      at_least_ort_best_sentence_embedding: vs(best.ort),
      at_least_ort_best_every_output: vs(best.ort, true),
      at_least_ort_best_qint8_sym_sentence_embedding: vs(best.ort_qint8_sym),
      at_least_ort_same_float_set_sentence_embedding: same ? vs(best.ort_same_float_set) : null,
      at_least_ort_same_float_set_qint8_sym_sentence_embedding: same ? vs(best.ort_same_float_set_qint8_sym) : null,
    };
  });
result.finished = new Date().toISOString();
load.push(loadavg()[0]);
await save();

const f5 = (x) => (x === undefined || x === null ? "-" : x.toFixed(5));
const f3 = (x) => (x === undefined || x === null ? "-" : x.toFixed(3));
const f1 = (x) => (x === undefined || x === null ? "-" : x.toFixed(1));
const note = (r) => {
  const parts = [];
  if (r.side === "ours") {
    if (r.variant === "fallback")
      parts.push(
        `${r.float_activations.length} float activation(s), selection cosine ${f5(r.selection_cosine)} on ${selectionArticles} calibration articles in ${f1(r.selection_seconds)} s`,
      );
    parts.push(`${r.calibration_rows} articles`);
  }
  if (r.side === "ort") {
    if (r.status !== "ok")
      parts.push(`**${r.status}**${r.error && r.error !== r.status ? `: ${r.error.split("\n")[0].slice(0, 160)}` : ""}`);
    if (r.status === "not run") {
      // nothing calibrated: the error says why
    } else if (r.strided) {
      parts.push(
        `${r.status === "ok" ? "calibrated" : "retried"} with CalibStridedMinMax: ${r.strided.passes} passes of ${r.strided.articles_per_pass} articles (all ${r.calibration_rows} used), a single pass having run out of memory`,
      );
    } else parts.push(`${r.calibration_rows} articles, single pass`);
    if (r.calibration_from_cache_of) parts.push(`ranges from the calibration cache of "${r.calibration_from_cache_of}"`);
    if (r.tensors_calibrated) parts.push(`${r.tensors_calibrated} tensors calibrated`);
    if (r.peak_rss_bytes) parts.push(`peak RSS ${(r.peak_rss_bytes / 1e9).toFixed(1)} GB`);
    if (r.attempts?.length > 1)
      parts.push(`first attempt: ${r.attempts[0].status}, peak RSS ${((r.attempts[0].peak_rss_bytes ?? 0) / 1e9).toFixed(1)} GB`);
  }
  const others = Object.entries(r.matmul?.other_readers_of_quantized ?? {});
  if (others.length && r.side !== "control")
    parts.push(`non-MatMul readers of Q/DQ outputs: ${others.map(([op, n]) => `${n} ${op}`).join(", ")}`);
  if (r.status === "evaluation failed") parts.push(`**evaluation failed**: ${r.error.slice(0, 160)}`);
  return parts.join("; ");
};
let table = `$ ${command}\n`;
table += `fp32: ${onnxPath} (sha256 ${result.fp32.sha256.slice(0, 12)}); ${sample.length} calibration + ${heldOut.length} held-out articles of ${values.articles} (seed ${seed}); seq ${seqLen}, batch ${batchSize}; ${result.machine.cpus} CPUs, load average ${load.map((l) => l.toFixed(2)).join(" → ")}\n\n`;
table +=
  "| method | sentence_embedding cos mean | cos min | last_hidden_state cos mean | max abs diff (sent. emb. / last hidden) | MatMul inputs int8 | calibration s | notes |\n|---|---|---|---|---|---|---|---|\n";
for (const r of result.rows) {
  const mm = r.matmul ? `${r.matmul.int8}/${r.matmul.total} (${(100 * r.matmul.share).toFixed(0)}%)` : "-";
  const calib =
    r.side === "ours"
      ? f1(r.calibration_seconds)
      : r.side === "ort"
        ? r.calibration_seconds === undefined
          ? "-"
          : `${f1(r.calibration_seconds)}${r.calibration_from_cache_of ? " (cached)" : ""}`
        : "-";
  table += `| ${r.method} | ${f5(cos(r, "sentence_embedding"))} | ${f5(cos(r, "sentence_embedding", "cosine_min"))} | ${f5(cos(r, "last_hidden_state"))} | ${f3(cos(r, "sentence_embedding", "max_abs_diff"))} / ${f3(cos(r, "last_hidden_state", "max_abs_diff"))} | ${mm} | ${calib} | ${note(r)} |\n`;
}
const bestLine = (label, r) => `${label}: ${r ? `${r.method} ${f5(cos(r, "sentence_embedding"))}` : "none measured"}`;
table += `\n${bestLine("ORT best on its own (sentence_embedding cosine mean)", best.ort)}\n${bestLine("ORT best on its own with QInt8 symmetric activations (TensorRT's form)", best.ort_qint8_sym)}\n`;
if (ortSame.length)
  table += `${bestLine(`ORT best given the float set of "${result.ort.ours_float.from}"`, best.ort_same_float_set)}; QInt8 sym: ${best.ort_same_float_set_qint8_sym ? f5(cos(best.ort_same_float_set_qint8_sym, "sentence_embedding")) : "-"}\n`;
const yn = (b) => (b === null ? "n/a" : b ? "yes" : "NO");
for (const v of result.verdicts) {
  table += `${v.method}: ≥ ${target} sentence_embedding ${yn(v.meets_target_sentence_embedding)}, every output ${yn(v.meets_target_every_output)}; ≥ ORT best ${yn(v.at_least_ort_best_sentence_embedding)} (every output ${yn(v.at_least_ort_best_every_output)}); ≥ ORT best QInt8 sym ${yn(v.at_least_ort_best_qint8_sym_sentence_embedding)}`;
  table +=
    v.at_least_ort_same_float_set_sentence_embedding === null
      ? "\n"
      : `; ≥ ORT with the same float set ${yn(v.at_least_ort_same_float_set_sentence_embedding)} (QInt8 sym ${yn(v.at_least_ort_same_float_set_qint8_sym_sentence_embedding)})\n`;
}
table += `JSON: ${values.out}${values.keep || values.work ? `; models kept in ${work}` : ""}\n`;
result.table = table;
await save();
process.stdout.write(`\n${table}`);
if (!values.keep && !values.work) await rm(work, { recursive: true, force: true });
