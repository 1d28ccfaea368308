import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AddonBinding, BuildEngineOptions, NativeProgressEvent } from "../src/binding-types.js";
import { isNativeError } from "../src/binding-types.js";
import { createFakeAddon, FAKE_PLAN_MARKER, type FakeAddon } from "../src/fake-addon.js";
import { rejection } from "../../tests/support/errors.js";

const temp = mkdtempSync(join(tmpdir(), "trtforge-fake-addon-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const onnxPath = join(temp, "model.onnx");
writeFileSync(onnxPath, "onnx bytes are not read by the fake");

const profiles = [
  { input: "input_ids", min: [1, 128], opt: [32, 128], max: [100, 128] },
  { input: "attention_mask", min: [1, 128], opt: [32, 128], max: [100, 128] },
];
const base: BuildEngineOptions = { onnxPath, precision: "fp16", profiles };

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a throw");
}

describe("createFakeAddon: the AddonBinding contract", () => {
  it("implements every export of the real addon", () => {
    const addon: AddonBinding = createFakeAddon();
    expect(addon.trtMajor).toBe(10);
    expect(addon.trtVersion()).toBe("10.16.0.72");
    expect(addon.compiledTrtVersion()).toBe("10.16.0.72");
    expect(addon.devices()).toHaveLength(1);
    expect(createFakeAddon({ trtMajor: 11 }).trtVersion()).toBe("11.1.0.106");
    expect(createFakeAddon({ devices: [] }).devices()).toEqual([]);
  });

  it("is exported from the @trtforge/native/fake subpath (the compiled package)", async () => {
    const published = await import("@trtforge/native/fake");
    const addon: AddonBinding = published.createFakeAddon({ trtMajor: 11 });
    expect(addon.trtMajor).toBe(11);
    expect(published.FAKE_PLAN_MARKER).toBe(FAKE_PLAN_MARKER);
  });

  it("writes a plan with the real header: ftrt, then the version at bytes 24..27", async () => {
    const addon = createFakeAddon({ trtMajor: 11, trtVersion: "11.1.0.106" });
    const result = await addon.buildEngine(base).promise;
    expect(result.engine.subarray(0, 4).toString("ascii")).toBe("ftrt");
    expect(Array.from(result.engine.subarray(24, 28))).toEqual([11, 1, 0, 106]);
    expect(result.engine.includes(FAKE_PLAN_MARKER)).toBe(true);
    expect(result.trtVersion).toBe("11.1.0.106");
    expect(result.device).toEqual({
      index: 0,
      name: "trtforge fake GPU",
      computeCapability: "8.6",
      cudaRuntimeVersion: "13.0",
      driverVersion: "13.0",
    });
    expect(result.ioTensors.map((t) => [t.name, t.mode, t.dtype, t.shape])).toEqual([
      ["input_ids", "input", "int64", [-1, 128]],
      ["attention_mask", "input", "int64", [-1, 128]],
      ["logits", "output", "fp32", [-1, 2]],
    ]);
    expect(result.ioTensors[0]!.profile).toEqual({ min: [1, 128], opt: [32, 128], max: [100, 128] });
  });

  it("reports logs and nested phases through the callbacks, all before the promise settles", async () => {
    const addon = createFakeAddon({
      logs: [
        { severity: "info", message: "[MemUsageChange] Init CUDA" },
        { severity: "verbose", message: "too chatty" },
        { severity: "warning", message: "onnxOpImporters: INT64 weights cast down" },
      ],
      phases: [{ name: "Building engine", nbSteps: 2, children: [{ name: "Timing layers", nbSteps: 2 }] }],
    });
    const events: string[] = [];
    const job = addon.buildEngine(base, {
      onLog: (e) => events.push(`log ${e.severity} ${e.message}`),
      onProgress: (e: NativeProgressEvent) =>
        events.push(
          e.type === "phaseStart"
            ? `start ${e.phase} < ${e.parent} (${e.nbSteps})`
            : e.type === "stepComplete"
              ? `step ${e.phase} ${e.step}`
              : `finish ${e.phase}`,
        ),
    });
    await job.promise;
    events.push("settled");
    expect(events).toEqual([
      "log info [MemUsageChange] Init CUDA",
      "log warning onnxOpImporters: INT64 weights cast down",
      "start Building engine < null (2)",
      "start Timing layers < Building engine (2)",
      "step Timing layers 0",
      "step Timing layers 1",
      "finish Timing layers",
      "step Building engine 0",
      "step Building engine 1",
      "finish Building engine",
      "settled",
    ]);
  });

  it("honours cancel(): the open phases finish, then the promise rejects CANCELLED", async () => {
    const addon = createFakeAddon({
      phases: [{ name: "Building engine", nbSteps: 3, children: [{ name: "Timing layers", nbSteps: 50 }] }],
    });
    const progress: NativeProgressEvent[] = [];
    const job = addon.buildEngine(base, {
      onProgress: (e) => {
        progress.push(e);
        if (e.type === "stepComplete" && e.step === 2) job.cancel();
      },
    });
    const err = await rejection(job.promise, isNativeError);
    expect(err.code).toBe("CANCELLED");
    expect(progress.filter((e) => e.type === "stepComplete")).toHaveLength(3);
    expect(progress.slice(-2)).toEqual([
      { type: "phaseFinish", phase: "Timing layers" },
      { type: "phaseFinish", phase: "Building engine" },
    ]);
  });

  it("rejects CANCELLED without phases when cancelled before it starts", async () => {
    const addon = createFakeAddon();
    const progress: NativeProgressEvent[] = [];
    const job = addon.buildEngine(base, { onProgress: (e) => progress.push(e) });
    job.cancel();
    job.cancel();
    expect((await rejection(job.promise, isNativeError)).code).toBe("CANCELLED");
    expect(progress).toEqual([]);
  });

  it("on TensorRT 11 refuses weak typing and calibration caches with TRT_MODE_REMOVED, synchronously", () => {
    const addon = createFakeAddon({ trtMajor: 11 });
    const weak = thrown(() => addon.buildEngine({ ...base, typing: "weak" }));
    expect(weak.code).toBe("TRT_MODE_REMOVED");
    expect(weak.message).toMatch(/removed weak typing.*precision must be in the ONNX/);
    const cache = thrown(() =>
      addon.buildEngine({ ...base, precision: "int8", calibrationCache: Buffer.from("TRT-110100-EntropyCalibration2\n") }),
    );
    expect(cache.code).toBe("TRT_MODE_REMOVED");
    expect(cache.message).toMatch(/Q\/DQ/);
    expect(addon.builds).toHaveLength(0);
  });

  it("on TensorRT 10 accepts weak int8 with a calibration cache, and only that combination", async () => {
    const addon = createFakeAddon({ trtMajor: 10 });
    await addon.buildEngine({
      ...base,
      precision: "int8",
      typing: "weak",
      calibrationCache: Buffer.from("TRT-101600-EntropyCalibration2\n"),
    }).promise;
    expect(addon.builds[0]).toMatchObject({ precision: "int8", typing: "weak" });
    const err = thrown(() => addon.buildEngine({ ...base, calibrationCache: Buffer.from("x") }));
    expect(err).toBeInstanceOf(TypeError);
  });

  it("checks options like the real addon (TypeError, synchronously)", () => {
    const addon = createFakeAddon();
    expect(thrown(() => addon.buildEngine({ ...base, precision: "fp8" as never }))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.buildEngine({ ...base, profiles: [{ input: "x", min: [4], opt: [2], max: [8] }] })).message).toMatch(
      /min <= opt <= max/,
    );
    expect(thrown(() => addon.buildEngine({ ...base, builderOptimizationLevel: 6 }))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.buildEngine({ ...base, excludeLeanRuntime: true }))).toBeInstanceOf(TypeError);
    expect(thrown(() => addon.buildEngine(base, { onLog: "no" as never })).message).toMatch(/onLog/);
  });

  it("returns an inspector JSON in TensorRT 10's shape with the per-layer precisions the test chose", async () => {
    const addon = createFakeAddon({
      layers: [
        { name: "/embeddings/Gather", type: "Gather", precision: "fp32" },
        { name: "/encoder/layer.0/MatMul", precision: "int8" },
        { name: "/encoder/layer.0/Softmax", precision: "fp16" },
      ],
    });
    const { inspectorJson } = await addon.buildEngine({ ...base, precision: "int8", typing: "weak" }).promise;
    const info = JSON.parse(inspectorJson) as { Layers: Array<Record<string, unknown>>; Bindings: string[] };
    expect(info.Bindings).toEqual(["input_ids", "attention_mask", "logits"]);
    expect(info.Layers.map((l) => [l.Name, (l.Outputs as Array<Record<string, string>>)[0]!["Format/Datatype"]])).toEqual([
      ["/embeddings/Gather", "Row major linear FP32 format"],
      ["/encoder/layer.0/MatMul", "Row major linear Int8 format"],
      ["/encoder/layer.0/Softmax", "Row major linear FP16 format"],
    ]);
    expect(info.Layers[1]).toMatchObject({
      LayerType: "CaskGemm",
      Inputs: [{ Name: "/embeddings/Gather_output", Location: "Device", Dimensions: [-1, 128] }],
    });
  });

  it("returns TensorRT 11's shape on major 11: I/O Tensors and split Format/DataType", async () => {
    const addon = createFakeAddon({
      trtMajor: 11,
      layers: (o) => [{ name: "/MatMul", precision: o.precision === "fp16" ? "fp32" : "fp16" }],
    });
    const { inspectorJson } = await addon.buildEngine(base).promise;
    const info = JSON.parse(inspectorJson) as Record<string, Array<Record<string, unknown>>>;
    expect(info.Bindings).toBeUndefined();
    expect(info["I/O Tensors"]![0]).toMatchObject({
      Name: "input_ids",
      IOMode: "Input",
      DataType: "Int64",
      ProfileInfo: [{ MinShape: [1, 128], MaxShape: [100, 128] }],
    });
    // An fp16 build that came out fp32: what the precision check must catch on TensorRT 11.
    expect(info.Layers![0]).toMatchObject({
      Name: "/MatMul",
      Outputs: [{ DataType: "Float", Format: "Row major linear FP32 format (kLINEAR)" }],
    });
  });

  it("can be told to fail parsing with given details (TRT_PARSE_FAILED)", async () => {
    const details = [
      {
        node: 41,
        nodeName: "/encoder/layer.0/attention/Einsum",
        operator: "Einsum",
        message: "unsupported equation",
        errorCode: "UNSUPPORTED_NODE",
      },
      { node: 57, nodeName: "/pooler/Tanh", operator: "Tanh", message: "bad input", errorCode: "INVALID_NODE" },
    ];
    const addon = createFakeAddon({ parseErrors: details });
    const err = await rejection(addon.buildEngine(base).promise, isNativeError);
    expect(err.code).toBe("TRT_PARSE_FAILED");
    expect(err.message).toBe(
      `TensorRT's ONNX parser could not parse ${onnxPath}: node 41 (/encoder/layer.0/attention/Einsum, Einsum): [UNSUPPORTED_NODE] unsupported equation (and 1 more)`,
    );
    expect(err.details).toEqual(details);
  });

  it("fails parsing a missing ONNX file, and can be told to fail the build (TRT_BUILD_FAILED)", async () => {
    const missing = await rejection(createFakeAddon().buildEngine({ ...base, onnxPath: join(temp, "nope.onnx") }).promise, isNativeError);
    expect(missing.code).toBe("TRT_PARSE_FAILED");
    const logs: string[] = [];
    const failed = await rejection(
      createFakeAddon({ buildErrors: ["Internal Error: no kernel for /MatMul"] }).buildEngine(base, { onLog: (e) => logs.push(e.message) })
        .promise,
      isNativeError,
    );
    expect(failed.code).toBe("TRT_BUILD_FAILED");
    expect(failed.message).toBe("TensorRT could not build the engine: Internal Error: no kernel for /MatMul");
    expect(failed.details).toEqual([{ source: "log", severity: "error", message: "Internal Error: no kernel for /MatMul" }]);
    expect(logs).toContain("Internal Error: no kernel for /MatMul");
  });

  it("checks profiles against the inputs it was given, like the real addon", async () => {
    const addon = createFakeAddon({
      ioTensors: [
        { name: "input_ids", mode: "input", dtype: "int64", shape: [-1, -1], location: "device" },
        { name: "logits", mode: "output", dtype: "fp32", shape: [-1, 2], location: "device" },
      ],
    });
    expect((await rejection(addon.buildEngine({ ...base, profiles: [] }).promise, isNativeError)).message).toMatch(
      /input_ids has dynamic dimensions \[-1,-1\]/,
    );
    expect((await rejection(addon.buildEngine(base).promise, isNativeError)).message).toMatch(
      /names input attention_mask, which the network does not have/,
    );
  });

  it("expands options.profile (one object) over every dynamic [batch, sequence] input, as builder_config.cc does", async () => {
    const profile = { batch: { min: 1, opt: 4, max: 7 }, sequence: { min: 1, opt: 32, max: 64 } };
    const { profiles: _profiles, ...withoutProfiles } = base;
    const result = await createFakeAddon().buildEngine({ ...withoutProfiles, profile }).promise;
    expect(result.ioTensors.filter((t) => t.mode === "input").map((t) => [t.name, t.profile])).toEqual([
      ["input_ids", { min: [1, 1], opt: [4, 32], max: [7, 64] }],
      ["attention_mask", { min: [1, 1], opt: [4, 32], max: [7, 64] }],
    ]);
    const io = (shape: number[]) =>
      createFakeAddon({
        ioTensors: [
          { name: "input_ids", mode: "input", dtype: "int64", shape: [-1, -1], location: "device" },
          { name: "pixels", mode: "input", dtype: "fp32", shape, location: "device" },
          { name: "logits", mode: "output", dtype: "fp32", shape: [-1, 2], location: "device" },
        ],
      });
    expect((await rejection(io([-1, 3, 224]).buildEngine({ ...withoutProfiles, profile }).promise, isNativeError)).message).toBe(
      "options.profile gives [batch, sequence] shapes but input pixels is [-1,3,224]; give options.profiles for such a network",
    );
    // A fixed dimension stays as the ONNX fixes it.
    await expect(io([-1, 128]).buildEngine({ ...withoutProfiles, profile }).promise).resolves.toBeDefined();
  });

  it("fails like a host without a GPU, or with a wrong device id", async () => {
    expect((await rejection(createFakeAddon({ devices: [] }).buildEngine(base).promise, isNativeError)).code).toBe("TRT_UNAVAILABLE");
    expect((await rejection(createFakeAddon().buildEngine({ ...base, deviceId: 3 }).promise, isNativeError)).code).toBe(
      "INVALID_DEVICE_ID",
    );
  });

  it("turns a timing cache into a larger one, and replaces a foreign one with a warning", async () => {
    const addon = createFakeAddon();
    const first = await addon.buildEngine(base).promise;
    const second = await addon.buildEngine({ ...base, timingCache: first.timingCache }).promise;
    expect(second.timingCache.length).toBeGreaterThan(0);
    expect(second.timingCache.toString()).not.toBe(first.timingCache.toString());
    const warnings: string[] = [];
    await addon.buildEngine(
      { ...base, timingCache: Buffer.from("real TensorRT cache") },
      { onLog: (e) => e.severity === "warning" && warnings.push(e.message) },
    ).promise;
    expect(warnings[0]).toMatch(/timing cache given was refused/);
  });
});

describe("createFakeAddon: engines", () => {
  async function built(addon: FakeAddon = createFakeAddon()) {
    return (await addon.buildEngine(base).promise).engine;
  }

  it("loads its own plans, runs them, and disposes idempotently", async () => {
    const addon = createFakeAddon();
    const engine = addon.loadEngine(await built(addon));
    expect(engine.deviceId).toBe(0);
    expect(engine.ioTensors().map((t) => t.name)).toEqual(["input_ids", "attention_mask", "logits"]);
    expect(JSON.parse(engine.inspectorJson()).Layers.length).toBeGreaterThan(0);
    const ids = { data: new BigInt64Array(2 * 128), shape: [2, 128] };
    const outputs = await engine.run({ input_ids: ids, attention_mask: ids });
    expect(outputs.logits!.shape).toEqual([2, 2]);
    expect(outputs.logits!.data).toBeInstanceOf(Float32Array);
    engine.dispose();
    engine.dispose();
    expect(engine.disposed).toBe(true);
    expect(thrown(() => engine.run({})).code).toBe("ENGINE_DISPOSED");
  });

  it("checks inputs like the real addon (INPUT_MISMATCH, synchronously)", async () => {
    const engine = createFakeAddon().loadEngine(await built());
    const ids = { data: new BigInt64Array(128), shape: [1, 128] };
    expect(thrown(() => engine.run({ input_ids: ids })).message).toMatch(/attention_mask is missing/);
    expect(thrown(() => engine.run({ input_ids: ids, attention_mask: ids, token_type_ids: ids })).message).toMatch(
      /no input named token_type_ids/,
    );
    expect(thrown(() => engine.run({ input_ids: { data: new Int32Array(128), shape: [1, 128] }, attention_mask: ids })).message).toMatch(
      /pass its data as a BigInt64Array/,
    );
    expect(thrown(() => engine.run({ input_ids: { data: new BigInt64Array(128), shape: [1, 64] }, attention_mask: ids })).message).toMatch(
      /fixes it to \[-1,128\]/,
    );
    expect(thrown(() => engine.run({ input_ids: { data: new BigInt64Array(100), shape: [1, 128] }, attention_mask: ids })).code).toBe(
      "INPUT_MISMATCH",
    );
  });

  it("computes outputs with the test's run function", async () => {
    const addon = createFakeAddon({
      run: (inputs) => ({ logits: { data: new Float32Array([0.25, 0.75]), shape: [inputs.input_ids!.shape[0]!, 2] } }),
    });
    const engine = addon.loadEngine(await built(addon));
    const ids = { data: new BigInt64Array(128), shape: [1, 128] };
    const outputs = await engine.run({ input_ids: ids, attention_mask: ids });
    expect(Array.from(outputs.logits!.data as Float32Array)).toEqual([0.25, 0.75]);
  });

  it("refuses what a real runtime would refuse: no magic, another TensorRT version, real plans, bad device", async () => {
    const addon = createFakeAddon();
    const plan = await built(addon);
    const marker = thrown(() => addon.loadEngine(Buffer.from("TRTFORGE-MARKER\nthis is not an engine\n")));
    expect(marker.code).toBe("ENGINE_LOAD_FAILED");
    expect(marker.message).toMatch(/plan magic "ftrt"/);
    const other = thrown(() => createFakeAddon({ trtMajor: 11 }).loadEngine(plan));
    expect(other.code).toBe("ENGINE_LOAD_FAILED");
    expect(other.message).toMatch(/built by TensorRT 10\.16\.0\.72, this process loaded TensorRT 11\.1\.0\.106/);
    const realLooking = Buffer.alloc(64);
    realLooking.write("ftrt");
    Buffer.from([10, 16, 0, 72]).copy(realLooking, 24);
    expect(thrown(() => addon.loadEngine(realLooking)).message).toMatch(/loads only plans that it built/);
    expect(thrown(() => addon.loadEngine(plan, 2)).code).toBe("INVALID_DEVICE_ID");
    expect(thrown(() => createFakeAddon({ devices: [] }).loadEngine(Buffer.from("ftrt"))).code).toBe("TRT_UNAVAILABLE");
  });
});
