import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { silentLogger } from "@trtforge/core";
import { loadModelsConfig, type ModelSpec } from "@trtforge/config";
import { createFakeAddon } from "@trtforge/native/fake";
import {
  checkStoreWritable,
  markerTargets,
  normalizeBuildRequest,
  readCheckedArticles,
  settleHost,
  type BuildRequestInput,
} from "../src/index.js";

let matrix: readonly ModelSpec[];
let dir: string;
beforeAll(async () => {
  matrix = (await loadModelsConfig()).models;
  dir = await mkdtemp(join(tmpdir(), "trtforge-request-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const normalize = (input: BuildRequestInput) =>
  normalizeBuildRequest(input, { matrix, defaultArticles: "conf/samples/ag_news_1000.jsonl" });
const entry = (task: string) => matrix.find((m) => m.taskName === task)!;

describe("normalizeBuildRequest: one set of defaults and checks for the CLI and library callers", () => {
  it("uses the built-in defaults when no build matrix entry matches, and says so", () => {
    const r = normalize({ modelId: "someone/unlisted-model" });
    expect(r.matrixEntry).toBeUndefined();
    expect(r.taskName).toBeUndefined();
    expect(r.build).toMatchObject({
      precision: "fp16",
      typing: "strong",
      trtVersion: "10.16.0",
      profile: { batch: { min: 1, opt: 16, max: 32 }, sequence: { min: 1, opt: 128, max: 256 } },
      workspaceBytes: 2048 * 1024 * 1024,
    });
    expect(r.calibration).toMatchObject({
      samples: 512,
      heldOut: 200,
      batchSize: 32,
      algorithm: "max",
      tensors: "quantization-sites",
      seed: 0,
      int8TargetCosine: 0.99,
      int8FloatShare: 0.1,
    });
    expect(r.sources).toMatchObject({
      precision: "default",
      maxBatch: "default",
      optBatch: "default",
      sequenceLength: "default",
      seed: "default",
      articles: "default",
    });
  });

  it("takes the defaults from the conf/models.yaml entry of the model id (sentiment: batch 100) and records that", () => {
    const sentiment = entry("sentiment");
    const r = normalize({ modelId: sentiment.modelId });
    expect(r.matrixEntry).toBe("sentiment");
    expect(r.taskName).toBe("sentiment");
    expect(r.hfTask).toBe("sequence-classification");
    expect(r.build).toMatchObject({
      profile: {
        batch: { min: 1, opt: 50, max: 100 },
        sequence: { min: sentiment.minSeqLen, opt: sentiment.optSeqLen, max: sentiment.seqLen },
      },
      precision: sentiment.precisions[0],
    });
    expect(r.sources).toMatchObject({
      maxBatch: "models.yaml entry sentiment",
      optBatch: "models.yaml entry sentiment",
      sequenceLength: "models.yaml entry sentiment",
      precision: "models.yaml entry sentiment",
      taskName: "models.yaml entry sentiment",
      seed: "default",
    });
  });

  it("matches an entry by --task-name, and flags override it", () => {
    const r = normalize({ taskName: "bias", maxBatch: "16", precision: "int8" });
    expect(r.matrixEntry).toBe("bias");
    expect(r.build).toMatchObject({ profile: { batch: { max: 16, opt: 8 }, sequence: { max: entry("bias").seqLen } }, precision: "int8" });
    // The entry's optimum was tuned for its own maximum: a flag's maximum gets the built-in rule (half).
    expect(r.sources).toMatchObject({ maxBatch: "flag", optBatch: "default", precision: "flag", sequenceLength: "models.yaml entry bias" });
  });

  it("does not apply an entry whose model id differs from the model being built", () => {
    expect(normalize({ taskName: "sentiment", modelId: "someone/other" }).matrixEntry).toBeUndefined();
  });

  it("refuses an optimum outside [min, max] naming where each came from, never clamps it", () => {
    expect(() => normalize({ maxBatch: 16, optBatch: 64 })).toThrow(
      expect.objectContaining({ code: "INVALID_LIMIT", message: "--opt-batch 64 is above --max-batch 16" }),
    );
    expect(() => normalize({ taskName: "embeddings", sequenceLength: "64" })).toThrow(
      expect.objectContaining({
        code: "INVALID_LIMIT",
        message: "opt_seq_len 128 (models.yaml entry embeddings) is above --sequence-length 64",
        input: "--opt-sequence-length",
      }),
    );
    expect(() => normalize({ sequenceLength: 256, optSequenceLength: 128, minSequenceLength: 200 })).toThrow(
      expect.objectContaining({ code: "INVALID_LIMIT" }),
    );
  });

  it.each<[string, BuildRequestInput, string, RegExp]>([
    ["--seed below 0", { seed: "-1" }, "INVALID_LIMIT", /--seed must be from 0/],
    ["--seed not a number", { seed: "1.5" }, "INVALID_LIMIT", /--seed must be a whole number, got "1.5"/],
    ["--percentile not a number", { percentile: "abc" }, "INVALID_LIMIT", /--percentile must be a number, got "abc"/],
    ["--percentile out of range", { percentile: "10" }, "INVALID_LIMIT", /--percentile must be from 50 to 100, got 10/],
    ["--min-cosine out of range", { minCosine: 2 }, "INVALID_LIMIT", /--min-cosine must be from -1 to 1/],
    ["--int8-target-cosine out of range", { int8TargetCosine: "1.5" }, "INVALID_LIMIT", /--int8-target-cosine/],
    ["--int8-float-share out of range", { int8FloatShare: "0.5x" }, "INVALID_LIMIT", /--int8-float-share must be a number/],
    ["--int8-float-share above 1", { int8FloatShare: 1.5 }, "INVALID_LIMIT", /--int8-float-share must be from 0 to 1, got 1.5/],
    ["--held-out 0", { heldOut: "0" }, "INVALID_LIMIT", /--held-out must be from 1/],
    ["--calibration-samples 0", { calibrationSamples: 0 }, "INVALID_LIMIT", /--calibration-samples must be from 1/],
    ["--opt-level 9", { optLevel: "9" }, "INVALID_LIMIT", /--opt-level must be from 0 to 5, got 9/],
    ["--workspace 8", { workspaceMiB: 8 }, "INVALID_LIMIT", /--workspace/],
    ["--max-batch 0", { maxBatch: "0" }, "INVALID_LIMIT", /--max-batch must be from 1 to 4096, got 0/],
    ["--sequence-length 99999", { sequenceLength: 99999 }, "INVALID_LIMIT", /--sequence-length must be from 1 to 8192/],
    ["--typing medium", { typing: "medium" }, "INVALID_OPTION", /--typing "medium" is not one of strong, weak/],
    ["--calibration-algorithm", { calibrationAlgorithm: "magic" }, "INVALID_OPTION", /--calibration-algorithm/],
    ["--trt-version", { trtVersion: "ten" }, "INVALID_OPTION", /--trt-version "ten"/],
    ["--precision fp64", { precision: "fp64" }, "INVALID_PRECISION", /fp64/],
    ["weak typing on TensorRT 11", { typing: "weak", trtVersion: "11.1.0" }, "TRT_MODE_REMOVED", /TensorRT 11 removed weak typing/],
  ])("%s: a typed error, never USAGE", (_label, input, code, message) => {
    expect(() => normalize(input)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it("--int8-target-cosine 0 turns the float fallback off; auto tensors follow the typing", () => {
    const r = normalize({ int8TargetCosine: "0", typing: "weak" });
    expect(r.calibration.int8TargetCosine).toBeUndefined();
    expect(r.calibration.tensors).toBe("all-float");
  });

  it("--int8-float-share 0 keeps every MatMul in int8", () => {
    expect(normalize({ int8FloatShare: "0" }).calibration.int8FloatShare).toBe(0);
  });
});

describe("the marker matrix uses the same profile normalization", () => {
  it("refuses an optimum the override puts outside [min, max] (it used to be clamped)", () => {
    expect(() => markerTargets(matrix, { sequenceLength: "64" }, "conf/models.yaml")).toThrow(
      expect.objectContaining({ code: "INVALID_LIMIT", message: expect.stringContaining("opt_seq_len 128") }),
    );
  });

  it("derives the optimum batch of an overridden maximum exactly as a pipeline build does", () => {
    const [target] = markerTargets(matrix, { maxBatch: "16", only: ["sentiment"], precision: "fp16" }, "conf/models.yaml");
    const request = normalize({ taskName: "sentiment", maxBatch: "16" });
    expect(target!.profile).toEqual(request.build.profile);
    expect(target!.profile.batch.max).toBe(16);
  });

  it("names an unknown --only task with INVALID_OPTION, not USAGE", () => {
    expect(() => markerTargets(matrix, { only: ["poetry"] }, "conf/models.yaml")).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});

describe("settleHost: the TensorRT version, device and typing are settled before any stage", () => {
  const log = silentLogger();
  it("uses the addon's TensorRT version (recorded as from the host), not the default", () => {
    const host = settleHost(
      normalize({}),
      { available: true, trtMajor: 10, path: "fake", binding: createFakeAddon({ trtMajor: 10, trtVersion: "10.13.0.35" }) },
      { marker: false, deviceId: 0, logger: log },
    );
    expect(host).toMatchObject({ kind: "engine", trtVersion: "10.13.0.35", trtVersionSource: "host", device: { index: 0 } });
  });

  it("refuses weak typing on a TensorRT 11 host at once, though the request asked for no version", () => {
    const addon = { available: true as const, trtMajor: 11, path: "fake", binding: createFakeAddon({ trtMajor: 11 }) };
    expect(() => settleHost(normalize({ typing: "weak" }), addon, { marker: false, deviceId: 0, logger: log })).toThrow(
      expect.objectContaining({ code: "TRT_MODE_REMOVED" }),
    );
  });

  it("refuses a GPU id the host does not have", () => {
    const addon = { available: true as const, trtMajor: 10, path: "fake", binding: createFakeAddon({ trtMajor: 10 }) };
    expect(() => settleHost(normalize({ device: 3 }), addon, { marker: false, deviceId: 3, logger: log })).toThrow(
      expect.objectContaining({ code: "INVALID_DEVICE_ID" }),
    );
  });

  it("without TensorRT, a marker stands in for the requested version", () => {
    const host = settleHost(
      normalize({ trtVersion: "11.1.0" }),
      { available: false, reason: "not-built", message: "no addon", fix: "build it" },
      { marker: true, deviceId: 0, logger: log },
    );
    expect(host).toMatchObject({ kind: "marker", trtVersion: "11.1.0", trtVersionSource: "flag" });
  });
});

describe("checkStoreWritable: the store is checked before any stage", () => {
  const saved = process.env.MODEL_STORE_ROOT;
  afterAll(() => {
    if (saved === undefined) delete process.env.MODEL_STORE_ROOT;
    else process.env.MODEL_STORE_ROOT = saved;
  });

  it("refuses no root, a missing root and a file, with --store-root in the fix", async () => {
    delete process.env.MODEL_STORE_ROOT;
    await expect(checkStoreWritable(undefined, undefined)).rejects.toMatchObject({
      code: "STORE_ROOT_UNSET",
      fix: expect.stringContaining("--store-root"),
    });
    await expect(checkStoreWritable(join(dir, "absent"), undefined)).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      fix: expect.stringContaining("--store-root"),
    });
    await writeFile(join(dir, "a-file"), "x");
    await expect(checkStoreWritable(join(dir, "a-file"), undefined)).rejects.toMatchObject({
      code: "NOT_A_DIRECTORY",
      fix: expect.not.stringMatching(/--root\b/),
    });
    await mkdir(join(dir, "store", "trt-x"), { recursive: true });
    await writeFile(join(dir, "store", "trt-x", "versions"), "x");
    await expect(checkStoreWritable(join(dir, "store"), "trt-x")).rejects.toMatchObject({ code: "NOT_A_DIRECTORY" });
    await expect(checkStoreWritable(join(dir, "store"), "trt-y")).resolves.toBe(join(dir, "store"));
  });

  it.skipIf(process.getuid?.() === 0)(
    "refuses a read-only root (root ignores permissions, so this runs as a normal user only)",
    async () => {
      const root = join(dir, "readonly");
      await mkdir(root);
      await chmod(root, 0o555);
      await expect(checkStoreWritable(root, undefined)).rejects.toMatchObject({ code: "STORE_READ_ONLY" });
      await chmod(root, 0o755);
    },
  );
});

describe("readCheckedArticles: articles are counted against the request before export", () => {
  const log = silentLogger();
  it("refuses fewer usable articles than --calibration-samples + --held-out, with counts", async () => {
    const path = join(dir, "few.jsonl");
    await writeFile(path, Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `article ${i}` })).join("\n"));
    await expect(
      readCheckedArticles(normalize({ articles: path, precision: "int8", calibrationSamples: 8, heldOut: 4 }), log),
    ).rejects.toMatchObject({
      code: "DATASET_INVALID",
      message: expect.stringContaining(
        "has 10 usable article(s) (0 malformed row(s)); int8 needs 12: 8 to calibrate on (--calibration-samples) + 4 held out (--held-out)",
      ),
    });
    await expect(
      readCheckedArticles(normalize({ articles: path, precision: "int8", calibrationSamples: 6, heldOut: 4 }), log),
    ).resolves.toMatchObject({ record: { usable: 10 } });
  });

  it("reports malformed rows with their lines, records them, and fails on them with --strict-articles", async () => {
    const path = join(dir, "bad.jsonl");
    await writeFile(path, ['{"text":"one"}', "not json", '{"text":"two"}', '{"id":3}', '{"text":"three"}'].join("\n"));
    const logger = silentLogger();
    const warn = vi.spyOn(logger, "warn");
    const { record } = await readCheckedArticles(normalize({ articles: path, precision: "fp16", heldOut: 2 }), logger);
    expect(record.bad_rows.count).toBe(2);
    expect(record.bad_rows.examples.map((b) => b.origin)).toEqual([`${path}:2`, `${path}:4`]);
    expect(JSON.stringify(warn.mock.calls)).toContain(`${path}:2`);
    await expect(
      readCheckedArticles(normalize({ articles: path, precision: "fp16", heldOut: 2, strictArticles: true }), log),
    ).rejects.toMatchObject({
      code: "DATASET_INVALID",
      message: expect.stringContaining(`2 malformed row(s) beside 3 usable article(s), first: ${path}:2`),
    });
  });
});

describe("normalizeBuildRequest --builder tensorrt-rtx", () => {
  it("keeps TensorRT builds' options (and so their build keys) unchanged by default", () => {
    const r = normalize({ modelId: "someone/unlisted-model" });
    expect(r.build.engineBuilder).toBeUndefined();
    expect(r.build.computeCapabilities).toBeUndefined();
  });

  it("records the builder, its version and the targets, which the build key includes", () => {
    const r = normalize({ modelId: "someone/unlisted-model", builder: "tensorrt-rtx", computeCapability: ["86", "8.9,120"] });
    expect(r.build).toMatchObject({ engineBuilder: "tensorrt-rtx", trtVersion: "1.7.1.116", computeCapabilities: ["8.6", "8.9", "12.0"] });
    expect(normalize({ modelId: "someone/unlisted-model", builder: "tensorrt-rtx" }).build.computeCapabilities).toEqual([]);
  });

  it("refuses int8, weak typing, unknown targets and targets for TensorRT before any work", () => {
    const rtx = { modelId: "someone/unlisted-model", builder: "tensorrt-rtx" };
    expect(() => normalize({ ...rtx, precision: "int8" })).toThrow(expect.objectContaining({ code: "BUILDER_PRECISION_UNSUPPORTED" }));
    expect(() => normalize({ ...rtx, typing: "weak" })).toThrow(/strongly typed networks only/);
    expect(() => normalize({ ...rtx, computeCapability: "90" })).toThrow(/not a TensorRT-RTX target/);
    expect(() => normalize({ modelId: "someone/unlisted-model", computeCapability: "86" })).toThrow(/--builder tensorrt-rtx only/);
    expect(() => normalize({ ...rtx, builder: "onnxruntime" })).toThrow(/--builder/);
  });
});
