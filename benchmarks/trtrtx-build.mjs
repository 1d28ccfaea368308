#!/usr/bin/env node
// The TensorRT-RTX builder stage (buildWithTensorRtRtx: Node → python -m trtforge_trtrtx → plan
// read back and its header checked) against a bare TensorRT-RTX build of the same ONNX (a Python
// process that parses and builds, nothing else), interleaved in the same run, Python start
// included on both sides. MiniLM fp32 and its fp16 ONNX (the pipeline's convertToFp16), the same
// profile (batch 1/4/8, sequence 1/128/256) and default targets. Reports wall time, plan size and
// the child's peak RSS. Goal: stage ≤ 1.5 × bare.
// Usage: node benchmarks/trtrtx-build.mjs [--rounds 2] [--out logs/benchmarks/trtrtx-build.json]
// Needs tsc -b, the venv with --with-trtrtx, and the MiniLM fp32 export in .tools/models (the
// calibration and builder tests write it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "@trtforge/core";
import { buildWithTensorRtRtx } from "@trtforge/builder";
import { convertToFp16, loadOnnxModel, saveOnnxModel } from "@trtforge/onnx-graph";

const root = join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: { rounds: { type: "string", default: "2" }, out: { type: "string", default: "logs/benchmarks/trtrtx-build.json" } },
});
const python = join(root, ".venv", "bin", "python");
const fp32 = join(root, ".tools", "models", "all-MiniLM-L6-v2.onnx-fp32", "model.onnx");
if (!existsSync(fp32)) throw new Error(`no MiniLM export at ${fp32}: run pnpm exec vitest run packages/builder first`);
const work = await mkdtemp(join(tmpdir(), "trtrtx-bench-"));
const fp16 = join(work, "model.fp16.onnx");
await saveOnnxModel(convertToFp16(await loadOnnxModel(fp32)), fp16);

const inputs = ["input_ids", "attention_mask", "token_type_ids"];
const profiles = inputs.map((input) => ({ input, min: [1, 1], opt: [4, 128], max: [8, 256] }));
const BARE = `
import sys, time, resource, tensorrt_rtx_bindings as trt
onnx, out, profile = sys.argv[1], sys.argv[2], __import__("json").loads(sys.argv[3])
logger = trt.Logger(trt.Logger.WARNING)
b = trt.Builder(logger); n = b.create_network(0); p = trt.OnnxParser(n, logger)
assert p.parse_from_file(onnx)
c = b.create_builder_config(); o = b.create_optimization_profile()
for e in profile: o.set_shape(e["input"], e["min"], e["opt"], e["max"])
c.add_optimization_profile(o)
plan = b.build_serialized_network(n, c)
open(out, "wb").write(plan)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
`;

function bare(onnx, out) {
  const start = performance.now();
  const r = spawnSync(python, ["-c", BARE, onnx, out, JSON.stringify(profiles)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bare build failed: ${r.stderr}`);
  return { seconds: (performance.now() - start) / 1000, peakRssBytes: Number(r.stdout.trim().split("\n").pop()) };
}

async function stage(onnx, out, precision) {
  const start = performance.now();
  const built = await buildWithTensorRtRtx({
    python,
    onnxPath: onnx,
    planPath: out,
    precision,
    profiles,
    computeCapabilities: [],
    logger: createLogger({ level: "silent" }),
  });
  return { seconds: (performance.now() - start) / 1000, peakRssBytes: built.peakRssBytes, childBuildSeconds: built.buildSeconds };
}

const results = [];
for (const [precision, onnx] of [
  ["fp32", fp32],
  ["fp16", fp16],
]) {
  const rows = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const b = bare(onnx, join(work, `bare-${precision}.plan`));
    const s = await stage(onnx, join(work, `stage-${precision}.plan`), precision);
    rows.push({ round, bare: b, stage: s, ratio: s.seconds / b.seconds });
  }
  const best = (k) => Math.min(...rows.map((r) => r[k].seconds));
  const row = {
    model: "sentence-transformers/all-MiniLM-L6-v2",
    precision,
    onnx_bytes: (await stat(onnx)).size,
    plan_bytes: (await stat(join(work, `stage-${precision}.plan`))).size,
    bare_plan_bytes: (await stat(join(work, `bare-${precision}.plan`))).size,
    best_bare_seconds: best("bare"),
    best_stage_seconds: best("stage"),
    ratio_of_bests: best("stage") / best("bare"),
    stage_peak_rss_bytes: Math.max(...rows.map((r) => r.stage.peakRssBytes)),
    bare_peak_rss_bytes: Math.max(...rows.map((r) => r.bare.peakRssBytes)),
    rounds: rows,
  };
  results.push(row);
  console.log(
    `${precision}: stage ${row.best_stage_seconds.toFixed(2)} s, bare ${row.best_bare_seconds.toFixed(2)} s (×${row.ratio_of_bests.toFixed(2)}), plan ${(row.plan_bytes / 1e6).toFixed(1)} MB, peak RSS ${(row.stage_peak_rss_bytes / 2 ** 30).toFixed(2)} GiB`,
  );
}
const out = join(root, values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, loadavg: loadavg(), trt_rtx: "1.7.1.116", goal: "stage <= 1.5 x bare", results }, null, 2)}\n`,
);
await rm(work, { recursive: true, force: true });
console.log(`wrote ${out}`);
