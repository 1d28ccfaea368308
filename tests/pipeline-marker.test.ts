import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@trtforge/core";
import { createFakeAddon, type FakeAddon, type FakeLayer } from "@trtforge/native/fake";
import type { PipelineInput } from "@trtforge/pipeline";
import { ROOT, importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";
import { workDirSharingExports } from "./support/shared-work.js";

const AG_NEWS = agNewsCsv();
const ONNXRUNTIME_NODE_PIN = (
  JSON.parse(readFileSync(join(ROOT, "packages/calibration/package.json"), "utf8")) as { dependencies: Record<string, string> }
).dependencies["onnxruntime-node"];

let dir: string;
let store: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-pipeline-"));
  store = join(dir, "store");
  work = await workDirSharingExports(join(dir, "work"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const buildArgs = () => [
  "--model",
  "store:memory",
  "--store-root",
  store,
  "--work-dir",
  work,
  "--precision",
  "int8",
  "--calibrate",
  AG_NEWS,
  "--calibration-samples",
  "64",
  "--held-out",
  "64",
  "--calibration-batch",
  "16",
  "--max-batch",
  "16",
  "--sequence-length",
  "128",
  "--marker",
  "--json",
];

describe("build-engine --model store:... --precision int8 --calibrate ... --marker (every stage real but TensorRT)", () => {
  it("imports MiniLM into the ModelStore", () => {
    const run = importMiniLm(store);
    expect(run.status, run.stderr).toBe(0);
  });

  it("without --marker stops at the build stage with TRT_UNAVAILABLE and keeps the stage results", () => {
    const args = buildArgs().filter((a) => a !== "--marker");
    const run = runCli("build-engine", args);
    expect(run.status, run.stderr).toBe(100);
    expect(run.stderr).toMatch(/stopping before the TensorRT build/);
    expect(run.stderr).toContain(join(work, "export"));
    expect(existsSync(join(store, "trt-embeddings"))).toBe(false);
  }, 600_000);

  it("publishes a verifiable marker version with ONNX, Q/DQ ONNX, calibration cache, metadata and provenance", async () => {
    // Another commit of the tool: the export is keyed on the exporter's code, so it is still reused.
    const run = runCli("build-engine", buildArgs(), { TRTFORGE_GIT_COMMIT: "0123456789abcdef0123456789abcdef01234567" });
    expect(run.status, run.stderr).toBe(0);
    // A normal int8 marker build needs nothing of the operator: no warn-level line (pino level 40+).
    const warnings = run.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => entry.level >= 40);
    expect(warnings.map((w) => w.msg)).toEqual([]);
    const result = run.json() as {
      kind: string;
      reused: boolean;
      agent: string;
      versionPath: string;
      engineName: string;
      stages: { export: { reused: boolean } };
    };
    expect(result).toMatchObject({ kind: "marker", reused: false, agent: "trt-embeddings" });
    // The stages done by the stopped run above are reused.
    expect(result.stages.export.reused).toBe(true);
    const files = (await readdir(result.versionPath)).sort();
    expect(files).toEqual(
      [
        "accuracy.json",
        "calibration.cache",
        "calibration.json",
        "cpu-serving.json",
        result.engineName,
        result.engineName.replace(/\.engine$/, ".json"),
        "export-report.json",
        "manifest.json",
        "model.cpu.onnx",
        "model.onnx",
        "model.qdq.onnx",
        "provenance.json",
        "tokenizer",
        "validation.json",
      ].sort(),
    );
    // What serving needs beside the engine: the tokenizer files and config.json, as from_pretrained() reads them.
    expect((await readdir(join(result.versionPath, "tokenizer"))).sort()).toEqual([
      "config.json",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "vocab.txt",
    ]);
    expect(result.engineName).toBe("embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.16.0-int8.engine");
    const cache = await readFile(join(result.versionPath, "calibration.cache"), "utf8");
    expect(cache.split("\n")[0]).toBe("TRT-101600-EntropyCalibration2");
    expect(cache.split("\n")[1]).toMatch(/^.+: [0-9a-f]{8}$/);
    // Strong typing (the default) needs scales at the Q/DQ sites only; a 1/31 sample of each is histogrammed.
    const calibration = JSON.parse(await readFile(join(result.versionPath, "calibration.json"), "utf8")) as {
      tensor_scope: string;
      sample_stride: number;
      scales: Record<string, number>;
      lengths: number[];
      length_bands: { seq_len: number; rows: number }[];
    };
    expect(calibration).toMatchObject({ tensor_scope: "quantization-sites", sample_stride: 31 });
    expect(Object.keys(calibration.scales)).toHaveLength(48);
    // Calibrated at the profile's lengths (1 and 128: bands from 32, and their midpoint), each band's ranges reported.
    expect(calibration.lengths).toEqual([32, 80, 128]);
    expect(calibration.length_bands.map((b) => b.seq_len)).toEqual([32, 80, 128]);
    // The Q/DQ model is the W8A8 plan's: SmoothQuant on the 12 LayerNorm-fed inputs, at most 10% of the 48 MatMuls in float.
    const int8Stages = join(work, "int8");
    for (const key of await readdir(int8Stages)) {
      if (!existsSync(join(int8Stages, key, "stage.json"))) continue;
      const stage = JSON.parse(await readFile(join(int8Stages, key, "stage.json"), "utf8")) as {
        calibration: { lengths: number[]; w8a8: { matmul_sites: number; float_matmuls: string[]; smoothed_activations: string[] } };
      };
      expect(stage.calibration.lengths).toEqual([32, 80, 128]);
      expect(stage.calibration.w8a8.matmul_sites).toBe(48);
      expect(stage.calibration.w8a8.smoothed_activations).toHaveLength(12);
      expect(stage.calibration.w8a8.float_matmuls.length).toBeLessThanOrEqual(4);
    }
    const qdq = await readFile(join(result.versionPath, "model.qdq.onnx"));
    expect(qdq.includes("smooth")).toBe(true);

    // NVIDIA's own ONNX parser (TensorRT-RTX, python/requirements-trtrtx.lock) accepts the Q/DQ ONNX we publish.
    const parse = spawnSync(
      process.env.TRTFORGE_PYTHON ?? join(ROOT, ".venv", "bin", "python"),
      ["-m", "trtforge_trtrtx", "parse", "--onnx", join(result.versionPath, "model.qdq.onnx")],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: join(ROOT, "python") }, encoding: "utf8", timeout: 300_000 },
    );
    expect(parse.status, parse.stdout + parse.stderr).toBe(0);
    const parsed = parse.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { type: string });
    expect(parsed.map((m) => m.type)).toContain("result");
    expect(parsed.map((m) => m.type)).not.toContain("error");

    const verify = runCli("verify-engine", [join(result.versionPath, result.engineName), "--json"]);
    expect(verify.status, verify.stdout).toBe(0);
    const report = verify.json() as {
      ok: boolean;
      kind: string;
      metadata: {
        onnx_sha256: string;
        calibration: { sample_count: number; cache_sha256: string };
        accuracy: { output: string; samples: number; shape?: { name: string; batch: number; seq_len: number } }[];
        inputs: { name: string; min_shape: number[]; opt_shape: number[]; max_shape: number[] }[];
      };
    };
    expect(report).toMatchObject({ ok: true, kind: "marker" });
    expect(report.metadata.calibration.sample_count).toBe(64);
    const heldOut = report.metadata.accuracy.filter((a) => a.shape === undefined);
    expect(heldOut.map((a) => a.output).sort()).toEqual(["last_hidden_state", "sentence_embedding"]);
    expect(heldOut[0]!.samples).toBe(64);
    // Every shape the metadata declares was run, in the accuracy stage and in the export's validation.
    const declared = report.metadata.inputs[0]!;
    const profile = [
      ["min", declared.min_shape],
      ["opt", declared.opt_shape],
      ["max", declared.max_shape],
    ] as const;
    expect(profile.map(([, s]) => s)).toEqual([
      [1, 1],
      [8, 128],
      [16, 128],
    ]);
    for (const [name, [batch, seqLen]] of profile) {
      const runs = report.metadata.accuracy.filter((a) => a.shape?.name === name);
      expect(runs.map((a) => a.output).sort()).toEqual(["last_hidden_state", "sentence_embedding"]);
      expect(runs[0]!.shape).toEqual({ name, batch, seq_len: seqLen });
      expect(runs[0]!.samples).toBe(batch);
    }
    const validation = JSON.parse(await readFile(join(result.versionPath, "validation.json"), "utf8")) as {
      passed: boolean;
      shapes: { name: string; batch: number; seq_len: number; passed: boolean; outputs: { samples: number }[] }[];
    };
    expect(validation.passed).toBe(true);
    expect(validation.shapes.map((s) => [s.name, [s.batch, s.seq_len], s.passed, s.outputs[0]!.samples])).toEqual(
      profile.map(([name, shape]) => [name, shape, true, shape[0]]),
    );
    const accuracyFile = JSON.parse(await readFile(join(result.versionPath, "accuracy.json"), "utf8")) as unknown[];
    expect(accuracyFile).toEqual(report.metadata.accuracy);
    expect(runCli("verify-engine", [join(result.versionPath, result.engineName), "--require-real"]).status).toBe(1);
    expect(runCli("model-store", ["verify", "--agent", "trt-embeddings", "--root", store]).status).toBe(0);
    // The CPU-serving form (int8 dynamic, fused) is published with its record, gated on the sentence embedding.
    const cpu = JSON.parse(await readFile(join(result.versionPath, "cpu-serving.json"), "utf8")) as {
      file: string;
      quantization: string;
      sha256: string;
      gate: { outputs: string[] };
      accuracy: { output: string; cosine_mean: number; samples: number }[];
    };
    expect(cpu).toMatchObject({ file: "model.cpu.onnx", quantization: "dynamic-int8", gate: { outputs: ["sentence_embedding"] } });
    expect(cpu.accuracy.find((a) => a.output === "sentence_embedding")!.cosine_mean).toBeGreaterThanOrEqual(0.99);
    expect(cpu.accuracy[0]!.samples).toBe(64);

    const provenance = JSON.parse(await readFile(join(result.versionPath, "provenance.json"), "utf8")) as {
      model: { store_ref: string; revision: string };
      onnx: { built_from: string };
      toolchain: { python: Record<string, string>; onnxruntime_node: string | null };
    };
    expect(provenance.model.store_ref).toMatch(/^store:memory@/);
    expect(provenance.onnx.built_from).toBe("model.qdq.onnx");
    expect(provenance.toolchain.python.torch).toMatch(/^2\.13\.0/);
    // Where each value came from: the flags above, the build matrix entry of MiniLM, or the defaults.
    const record = provenance as unknown as {
      request: { matrix_entry: string; sources: Record<string, string> };
      articles: { usable: number; bad_rows: { count: number } };
    };
    expect(record.request.matrix_entry).toBe("embeddings");
    expect(record.request.sources).toMatchObject({
      maxBatch: "flag",
      sequenceLength: "flag",
      optSequenceLength: "models.yaml entry embeddings",
      optBatch: "default",
      seed: "default",
      trtVersion: "models.yaml entry embeddings",
      taskName: "models.yaml entry embeddings",
    });
    expect(record.articles).toMatchObject({ usable: 7600, bad_rows: { count: 0 } });
    expect(provenance.toolchain.onnxruntime_node).toBe(ONNXRUNTIME_NODE_PIN);
  }, 600_000);

  it("reuses the identical build the second time", () => {
    const run = runCli("build-engine", buildArgs());
    expect(run.status, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ reused: true, kind: "marker" });
  }, 120_000);

  it("fails the accuracy gate when --min-cosine is not met, leaving no new version", async () => {
    const before = await readdir(join(store, "trt-embeddings", "versions"));
    const run = runCli("build-engine", [...buildArgs(), "--min-cosine", "0.99999"]);
    expect(run.status).toBe(93);
    expect(run.stderr).toMatch(/ACCURACY_GATE_FAILED/);
    expect(run.stderr).toMatch(/cosine mean/);
    expect(await readdir(join(store, "trt-embeddings", "versions"))).toEqual(before);
  }, 120_000);

  it("refuses weak typing for TensorRT 11", () => {
    const run = runCli("build-engine", [...buildArgs(), "--typing", "weak", "--trt-version", "11.1.0"]);
    expect(run.status).toBe(103);
    expect(run.stderr).toMatch(/TensorRT 11 removed weak typing/);
  });
});

describe("the same pipeline with a real-build addon (the fake addon: TensorRT itself never runs here)", () => {
  const pipeline = async (addon: FakeAddon | undefined, patch: Partial<PipelineInput> = {}) => {
    const { runPipeline } = await import("@trtforge/pipeline");
    return runPipeline({
      model: "store:memory",
      storeRoot: store,
      workRoot: work,
      precision: "int8",
      typing: "strong",
      trtVersion: "10.16.0",
      maxBatch: 16,
      optBatch: 8,
      minSequenceLength: 1,
      optSequenceLength: 128,
      sequenceLength: 128,
      workspaceMiB: 2048,
      optLevel: 3,
      hardwareCompatibility: "none",
      versionCompatible: false,
      articles: AG_NEWS,
      // These tests are about the build plumbing, not the int8 figures (the first suite builds with the
      // whole W8A8 plan, packages/calibration/test/w8a8-plan.test.ts tests the plan): a small calibration,
      // no sensitivity probes, and the accuracy gate accepted (its own tests are the first suite's and
      // accuracy-policy.test.ts). The profile stays the first suite's, so its export is reused.
      calibrationSamples: 16,
      heldOut: 16,
      int8FloatShare: 0,
      calibrationBatch: 16,
      calibrationAlgorithm: "entropy",
      seed: 0,
      opset: 17,
      marker: false,
      acceptAccuracy: true,
      logger: silentLogger(),
      addon: addon ? { available: true, trtMajor: addon.trtMajor, path: "fake", binding: addon } : undefined,
      ...patch,
    });
  };

  it("builds from the Q/DQ ONNX with one profile for every input, records the GPU, saves the timing cache, and verifies as a real engine", async () => {
    const addon = createFakeAddon({ trtMajor: 10 });
    const result = await pipeline(addon);
    expect(result).toMatchObject({ kind: "engine", reused: false });
    expect(addon.builds).toHaveLength(1);
    const request = addon.builds[0]!;
    expect(request.onnxPath).toMatch(/model\.qdq\.onnx$/);
    expect(request.typing).toBe("strong");
    // One Profile object; the addon expands it over every dynamic [batch, sequence] input.
    expect(request.profiles).toBeUndefined();
    expect(request.profile).toEqual({ batch: { min: 1, opt: 8, max: 16 }, sequence: { min: 1, opt: 128, max: 128 } });
    expect(result.engineName).toMatch(/-trt-10\.16\.0\.72-int8\.engine$/);
    const engine = join(result.versionPath, result.engineName);
    const verify = runCli("verify-engine", [
      engine,
      "--require-real",
      "--runtime-trt-version",
      "10.16.0.72",
      "--runtime-compute-capability",
      "8.6",
      "--json",
    ]);
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.json()).toMatchObject({
      ok: true,
      kind: "engine",
      plan_header: { version: "10.16.0.72" },
      metadata: { gpu: { name: "trtforge fake GPU", compute_capability: "8.6" } },
    });
    expect(runCli("verify-engine", [engine, "--runtime-compute-capability", "9.0"]).status).toBe(1);
    expect(await readdir(join(store, "trt-timing-cache", "versions"))).toHaveLength(1);
    // A second identical build is found in the store and not redone.
    const again = await pipeline(addon);
    expect(again).toMatchObject({ reused: true, version: result.version });
    expect(addon.builds).toHaveLength(1);
  }, 300_000);

  // One weakly typed precision stage (all-float scales) serves the next two tests: it is calibrated for the
  // host's TensorRT 10.13, not the request's default 10.16.
  it("calibrates for the host's TensorRT: the precision stage key and the cache header follow the addon, not the default version", async () => {
    const addon = createFakeAddon({ trtMajor: 10, trtVersion: "10.13.0.35" });
    const result = await pipeline(addon, { typing: "weak", trtVersion: undefined });
    const header = Buffer.from(addon.builds[0]!.calibrationCache!).toString("utf8").split("\n")[0];
    expect(header).toBe("TRT-101300-EntropyCalibration2");
    expect(result).toMatchObject({ trtVersion: "10.13.0.35", sources: { trtVersion: "host" }, stages: { precision: { reused: false } } });
  }, 300_000);

  it("gives TensorRT 10 weak typing the fp32 ONNX and the calibration cache, and feeds back the stored timing cache", async () => {
    const addon = createFakeAddon({ trtMajor: 10, trtVersion: "10.13.0.35" });
    // Another build (its optimization level) over the precision stage of the test above, whose build stored a timing cache.
    const result = await pipeline(addon, { typing: "weak", trtVersion: undefined, optLevel: 2 });
    expect(result.stages.precision.reused).toBe(true);
    const request = addon.builds[0]!;
    expect(request.onnxPath).toMatch(/onnx\/model\.onnx$/);
    const cacheLines = Buffer.from(request.calibrationCache!).toString("utf8").trim().split("\n");
    expect(cacheLines[0]).toBe("TRT-101300-EntropyCalibration2");
    // Implicit int8 takes a scale for every float activation, not just the 48 MatMul inputs (less those kept in float).
    expect(cacheLines.length - 1).toBeGreaterThan(150);
    expect(request.timingCache).toBeDefined();
  }, 300_000);

  it("fails when no layer of the built engine runs in the asked precision (int8 on TensorRT 10, fp16 on TensorRT 11)", async () => {
    // The check reads the built engine's layers whatever the TensorRT major (TensorRT 11 upgrades are why
    // it exists). int8 on a TensorRT 10 addon reuses the precision stage of the first test here; a TensorRT
    // 11 host would calibrate for its own version, so there the cheap fp16 stage is built instead.
    const fp32Layers: FakeLayer[] = [{ name: "gemm", type: "CaskGemm", precision: "fp32" }];
    await expect(pipeline(createFakeAddon({ trtMajor: 10, layers: fp32Layers }), { optLevel: 0 })).rejects.toMatchObject({
      code: "PRECISION_NOT_APPLIED",
      message: expect.stringContaining("no layer of the built engine runs in int8"),
    });
    await expect(pipeline(createFakeAddon({ trtMajor: 11, layers: fp32Layers }), { precision: "fp16" })).rejects.toMatchObject({
      code: "PRECISION_NOT_APPLIED",
      message: expect.stringContaining("no layer of the built engine runs in fp16"),
    });
  }, 600_000);

  it("turns parser errors into TRT_PARSE_FAILED naming node and operator", async () => {
    const addon = createFakeAddon({
      trtMajor: 10,
      parseErrors: [
        { node: 7, nodeName: "/encoder/Attention", operator: "Attention", message: "unsupported", errorCode: "UNSUPPORTED_NODE" },
      ],
    });
    await expect(pipeline(addon, { optLevel: 1 })).rejects.toMatchObject({
      code: "TRT_PARSE_FAILED",
      message: expect.stringMatching(/\/encoder\/Attention \(Attention\)/),
    });
  }, 300_000);

  it("refuses weak typing on a TensorRT 11 runtime", async () => {
    const addon = createFakeAddon({ trtMajor: 11 });
    await expect(pipeline(addon, { typing: "weak", optLevel: 4 })).rejects.toMatchObject({ code: "TRT_MODE_REMOVED" });
  }, 300_000);

  it("cancels a running build through the signal", async () => {
    const addon = createFakeAddon({ trtMajor: 10, stepDelayMs: 200 });
    const controller = new AbortController();
    const run = pipeline(addon, {
      optLevel: 5,
      signal: controller.signal,
      onProgress: (event) => event.stage === "Timing layers" && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ code: "CANCELLED" });
  }, 300_000);
});
