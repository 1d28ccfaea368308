#!/usr/bin/env node
// Which dynamic-int8 form of the CPU-serving ONNX holds on this host's CPU: the same fused MiniLM
// quantized by onnxruntime.quantization.quantize_dynamic with int8 weights (U8S8, the form before
// this benchmark), int8 weights at 7 bits (reduce_range) and uint8 weights (U8U8), each run in a bare
// onnxruntime-node session (benchmarks/serve.mjs's floor child, its own process) against the fp32
// ONNX: sentence-embedding cosine (mean, min) and articles/s at batch 1 and 8.
// Why: on x86-64 without VNNI (AVX2 or AVX-512 alone) ONNX Runtime's U8S8 kernels use VPMADDUBSW,
// whose int16 sums saturate; ONNX Runtime's quantization docs name reduce_range or U8U8 as the cure.
//
//   python -m trtforge_export.cpu_serving ... (or quantize_dynamic by hand) for each form, then
//   node benchmarks/cpu-int8-forms.mjs --fp32 model.onnx --forms u8s8=a.onnx,u8s8-7bit=b.onnx,u8u8=c.onnx
//     [--count 200] [--threads N] [--out logs/benchmarks/cpu-int8-forms-<host>.json]
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { readF32, rowCosines } from "./embeddings.mjs";
import { inputOptions, root } from "./inputs.mjs";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    fp32: { type: "string" },
    forms: { type: "string" },
    count: { type: "string", default: "200" },
    threads: { type: "string", default: String(availableParallelism()) },
    out: { type: "string" },
    model: inputOptions.model,
    articles: inputOptions.articles,
  },
});
if (!values.fp32 || !values.forms) throw new Error("pass --fp32 <onnx> and --forms name=onnx,... (see the header of this file)");
const forms = Object.fromEntries(values.forms.split(",").map((pair) => pair.split("=")));

const cpuFlags =
  (await readFile("/proc/cpuinfo", "utf8"))
    .match(/^flags\s*:(.*)$/m)?.[1]
    .trim()
    .split(/\s+/) ?? [];
const vnni = cpuFlags.filter((f) => /vnni|amx_int8/.test(f));

const dir = await mkdtemp(join(tmpdir(), "trtforge-int8-forms-"));
try {
  const { readArticles } = await import("@trtforge/articles");
  // The end of the AG News test split: away from the calibration and held-out samples of the builds.
  const texts = (await readArticles(values.articles)).articles.slice(-Number(values.count)).map((a) => a.text);
  const textsFile = join(dir, "texts.json");
  await writeFile(textsFile, JSON.stringify(texts));
  const floor = async (onnx, batch, emb) => {
    const args = [join(root, "benchmarks/serve.mjs"), "--child", "floor", "--onnx", onnx, "--texts", textsFile, "--batch", String(batch)];
    args.push("--threads", values.threads, "--model", values.model, ...(emb ? ["--emb", emb] : []));
    const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 26 });
    return JSON.parse(stdout.trim().split("\n").pop());
  };
  const all = { fp32: values.fp32, ...forms };
  const results = {};
  for (const [name, onnx] of Object.entries(all)) {
    const b1 = await floor(onnx, 1);
    const b8 = await floor(onnx, 8, join(dir, `${name}.emb`));
    results[name] = { onnx, batch1_articles_per_s: b1.articles_per_s, batch8_articles_per_s: b8.articles_per_s, batch1_p50_ms: b1.p50_ms };
    console.error(`${name}: batch 1 ${b1.articles_per_s.toFixed(1)}/s, batch 8 ${b8.articles_per_s.toFixed(1)}/s`);
  }
  const reference = await readF32(join(dir, "fp32.emb"));
  const dim = reference.length / texts.length;
  for (const name of Object.keys(forms)) {
    const cos = rowCosines(await readF32(join(dir, `${name}.emb`)), reference, dim);
    cos.sort((a, b) => a - b);
    results[name].cosine_mean = cos.reduce((s, c) => s + c, 0) / cos.length;
    results[name].cosine_p01 = cos[Math.floor(cos.length * 0.01)];
    results[name].cosine_min = cos[0];
  }
  const result = {
    date: new Date().toISOString(),
    host: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      vnni_flags: vnni,
      avx512: cpuFlags.some((f) => f.startsWith("avx512")),
      loadavg: loadavg(),
    },
    articles: texts.length,
    threads: Number(values.threads),
    results,
  };
  const out = values.out ?? join(root, "logs/benchmarks", `cpu-int8-forms-${vnni.length ? "vnni" : "no-vnni"}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`host: ${result.host.cpu}, ${result.host.cpus} CPUs, VNNI: ${vnni.join(" ") || "none"}`);
  console.log("| form | cosine mean | p01 | min | batch 1 /s | batch 8 /s |");
  console.log("|---|---|---|---|---|---|");
  for (const [name, r] of Object.entries(results))
    console.log(
      `| ${name} | ${r.cosine_mean?.toFixed(5) ?? "(reference)"} | ${r.cosine_p01?.toFixed(5) ?? ""} | ${r.cosine_min?.toFixed(5) ?? ""} | ${r.batch1_articles_per_s.toFixed(1)} | ${r.batch8_articles_per_s.toFixed(1)} |`,
    );
  console.log(`wrote ${out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
