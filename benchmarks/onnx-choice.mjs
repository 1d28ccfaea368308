#!/usr/bin/env node
// Which ONNX the runtime's ONNX Runtime fallback should serve: the fp32 export, the pipeline's Q/DQ
// int8 ONNX, and (when the version has one) the CPU-serving ONNX, each opened through
// openServedModel exactly as serving opens it, run in-process on the same real AG News articles at
// the same batch size (tokenization included), side by side, interleaved over rounds. Reports
// articles/s and the cosine of each variant's sentence_embedding to fp32's.
// The version comes from --store-root/--agent, or is built here: `build-engine --precision int8
// --marker` on MiniLM (every stage real but TensorRT), then republished with its tokenizer files
// under tokenizer/ when the pipeline's version lacks them.
// Usage: node benchmarks/onnx-choice.mjs [--articles 200] [--batch 32] [--rounds 3] [--threads N]
//        [--store-root DIR --agent NAME] [--work DIR] [--out logs/benchmarks/onnx-choice.json]
// Needs the packages built (tsc -b) and the Python venv (for the export stage).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { inputOptions, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    articles: { type: "string", default: "200" },
    source: inputOptions.articles,
    model: inputOptions.model,
    batch: { type: "string", default: "32" },
    rounds: { type: "string", default: "3" },
    threads: { type: "string" },
    "store-root": { type: "string" },
    agent: { type: "string" },
    work: { type: "string" },
    out: { type: "string", default: join(root, "logs/benchmarks/onnx-choice.json") },
  },
});

const { openServedModel } = await import("@trtforge/runtime");
const { publish } = await import("@trtforge/model-store");
const { readArticles } = await import("@trtforge/articles");

const MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2";
const REVISION = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json"];

async function listFiles(dir, prefix = "") {
  const out = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (rel !== "manifest.json") out.push(rel);
  }
  return out;
}

async function buildVersion(work) {
  const storeRoot = join(work, "store");
  const args = [
    join(root, "packages/cli/bin/build-engine.js"),
    "--model",
    values.model,
    "--model-id",
    MODEL_ID,
    "--revision",
    REVISION,
    "--precision",
    "int8",
    "--marker",
    "--max-batch",
    "32",
    "--sequence-length",
    "128",
    "--store-root",
    storeRoot,
    "--work-dir",
    join(work, "pipeline-work"),
    "--json",
  ];
  console.error(`building: node ${args.map((a) => relative(root, a) || a).join(" ")}`);
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`build-engine exited ${run.status}`);
  const result = JSON.parse(run.stdout);
  const files = await listFiles(result.versionPath);
  if (files.some((f) => f.endsWith("tokenizer.json"))) return { storeRoot, agent: result.agent };
  // Until the pipeline publishes the tokenizer, serve a copy of its version with the tokenizer added.
  const agent = `${result.agent}-serving`;
  await publish({
    root: storeRoot,
    agent,
    version: result.version,
    files: [
      ...files.map((f) => ({ path: f, sourcePath: join(result.versionPath, f) })),
      ...TOKENIZER_FILES.filter((f) => existsSync(join(values.model, f))).map((f) => ({
        path: `tokenizer/${f}`,
        sourcePath: join(values.model, f),
      })),
    ],
    metadata: { engine: JSON.parse(await readFile(join(result.versionPath, "manifest.json"), "utf8")).metadata.engine },
  });
  return { storeRoot, agent };
}

function cosine(a, b) {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

async function main() {
  const work = values.work ?? (await mkdtemp(join(tmpdir(), "trtforge-onnx-choice-")));
  const source = values["store-root"] && values.agent ? { storeRoot: values["store-root"], agent: values.agent } : await buildVersion(work);
  // Articles the pipeline did not calibrate on: the last N of the AG News test split, minus any
  // text that also appears in the calibration set (conf/samples).
  const calibration = new Set((await readArticles(join(root, "conf/samples"))).articles.map((a) => a.text));
  const all = (await readArticles(values.source)).articles.filter((a) => !calibration.has(a.text));
  const texts = all.slice(-Number(values.articles)).map((a) => a.text);
  const batch = Number(values.batch);
  const threads = values.threads === undefined ? {} : { intraOpNumThreads: Number(values.threads) };

  const variants = [];
  for (const variant of ["fp32", "int8", "cpu"]) {
    try {
      const model = await openServedModel({ ...source }, { onnxVariant: variant, ...threads });
      variants.push({ variant, model, seconds: [], embeddings: undefined });
    } catch (err) {
      console.error(`${variant}: not measured (${err.code ?? ""} ${err.message.split("\n")[0]})`);
    }
  }
  for (const v of variants) await v.model.run(v.model.tokenize(texts.slice(0, batch), { truncate: true }));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const v of variants) {
      const started = process.hrtime.bigint();
      const rows = [];
      for (let i = 0; i < texts.length; i += batch) {
        const out = await v.model.run(v.model.tokenize(texts.slice(i, i + batch), { truncate: true }));
        const emb = out.find((o) => o.name === "sentence_embedding");
        for (let r = 0; r < emb.shape[0]; r++) rows.push(emb.data.slice(r * emb.shape[1], (r + 1) * emb.shape[1]));
      }
      v.seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
      v.embeddings ??= rows;
      console.error(`round ${round + 1} ${v.variant}: ${(texts.length / v.seconds.at(-1)).toFixed(1)} articles/s`);
    }
  }
  const fp32 = variants.find((v) => v.variant === "fp32");
  const results = variants.map((v) => {
    const sorted = [...v.seconds].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const cos = v.embeddings.map((e, i) => cosine(e, fp32.embeddings[i]));
    return {
      variant: v.variant,
      artifact: v.model.evidence.artifact,
      precision: v.model.evidence.precision,
      articles_per_s_median: texts.length / median,
      articles_per_s_best: texts.length / sorted[0],
      seconds: v.seconds,
      cosine_vs_fp32_mean: cos.reduce((a, b) => a + b, 0) / cos.length,
      cosine_vs_fp32_min: Math.min(...cos),
    };
  });
  for (const v of variants) await v.model.dispose();
  const report = {
    command: `node benchmarks/onnx-choice.mjs ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg_at_end: loadavg(), node: process.version },
    articles: texts.length,
    batch,
    rounds: Number(values.rounds),
    source,
    results,
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log("| variant | artifact | articles/s (median) | best | cosine vs fp32 mean | min |");
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.variant} | ${r.artifact} | ${r.articles_per_s_median.toFixed(1)} | ${r.articles_per_s_best.toFixed(1)} | ${r.cosine_vs_fp32_mean.toFixed(5)} | ${r.cosine_vs_fp32_min.toFixed(5)} |`,
    );
  }
  console.error(`written: ${values.out}`);
}

await main();
