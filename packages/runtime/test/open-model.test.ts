import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { AddonBinding, NativeEngine } from "@trtforge/native";
import { loadTokenizer } from "@trtforge/tokenizer";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection, thrown } from "../../../tests/support/errors.js";
import { admit, openServedModel, tokenInput, type FallbackReason, type OutputTensor } from "../src/index.js";
import {
  agNewsTexts,
  fakeAddon,
  fakePlan,
  MAX_BATCH,
  MAX_SEQ,
  minilmDir,
  minilmOnnx,
  minilmCpuInt8Onnx,
  minilmQdqOnnx,
  MODEL_ID,
  publishVersion,
  REVISION,
  sha256Of,
} from "./fixtures.js";

let dir: string;
let root: string;
let plan: Buffer;
let onnxSha: string;

/** An addon that records every loadEngine call, to prove what was (not) deserialized. */
function countingAddon(addon: AddonBinding): AddonBinding & { loads: number; engines: NativeEngine[] } {
  const counted = { ...addon, loads: 0, engines: [] as NativeEngine[] };
  counted.loadEngine = (...args) => {
    counted.loads++;
    const engine = addon.loadEngine(...args);
    counted.engines.push(engine);
    return engine;
  };
  return counted;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-open-"));
  root = join(dir, "store");
  plan = await fakePlan();
  onnxSha = await sha256Of(minilmOnnx());
  await publishVersion({ root, agent: "embed", version: "v1" });
  await publishVersion({ root, agent: "embed", version: "v2" });
  await publishVersion({ root, agent: "trt", version: "v1", engine: { kind: "plan", bytes: plan } });
  await publishVersion({ root, agent: "corrupt", version: "v1", engine: { kind: "plan", bytes: plan, corruptAfterMetadata: true } });
  // A real plan header of the addon's TensorRT version, but bytes TensorRT cannot deserialize.
  const undeserializable = Buffer.alloc(4096, 0x3c);
  undeserializable.write("ftrt", 0, "ascii");
  undeserializable.set([10, 16, 0, 72], 24);
  await publishVersion({ root, agent: "garbage", version: "v1", engine: { kind: "plan", bytes: undeserializable } });
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("openServedModel: which version, and only a verified one", () => {
  it("opens current (the newest publish) and a pinned @version, with the evidence of the version that serves", async () => {
    const current = await openServedModel({ storeRoot: root, agent: "embed" });
    const pinned = await openServedModel({ storeRoot: root, agent: "embed", version: "v1" });
    try {
      expect(current.version).toBe("v2");
      expect(pinned.version).toBe("v1");
      expect(pinned.evidence).toEqual({
        model_id: MODEL_ID,
        hf_revision: REVISION,
        agent: "embed",
        version: "v1",
        backend: "onnxruntime",
        precision: "fp32",
        checksum: onnxSha,
        artifact: "model.onnx",
        fallback_reason: "ENGINE_IS_MARKER",
        // A CPU worker (no onnxCuda): the CPU provider, and no CUDA reason.
        execution_provider: "cpu",
      });
      expect(current.kind).toBe("embedding");
      expect(current.labels).toBeUndefined();
      expect(current.profile).toEqual({ batch: { min: 1, opt: 8, max: MAX_BATCH }, sequence: { min: 1, opt: 64, max: MAX_SEQ } });
      expect(current.inputs.map((i) => i.name)).toEqual(["input_ids", "attention_mask", "token_type_ids"]);
      expect(current.outputs).toEqual([
        { name: "last_hidden_state", datatype: "FP32", shape: [-1, -1, 384] },
        { name: "sentence_embedding", datatype: "FP32", shape: [-1, 384] },
      ]);
    } finally {
      await Promise.all([current.dispose(), pinned.dispose()]);
    }
  });

  it("refuses a damaged version with STORE_CHECKSUM_MISMATCH naming the first bad file, before loading anything", async () => {
    await publishVersion({ root, agent: "damaged", version: "v1" });
    await appendFile(join(root, "damaged", "versions", "v1", "tokenizer", "vocab.txt"), "extra\n");
    const addon = countingAddon(fakeAddon());
    const err = await rejection(openServedModel({ storeRoot: root, agent: "damaged" }, { addon }));
    expect(err.code).toBe("STORE_CHECKSUM_MISMATCH");
    expect(err.message).toContain("first bad file tokenizer/vocab.txt");
    expect(addon.loads).toBe(0);
  });

  it("an unknown version is STORE_VERSION_NOT_FOUND", async () => {
    expect((await rejection(openServedModel({ storeRoot: root, agent: "embed", version: "v9" }))).code).toBe("STORE_VERSION_NOT_FOUND");
  });
});

describe("load policy: the engine only after verify-engine passes against the running TensorRT and GPU", () => {
  const cases: { name: string; agent: string; addon: () => AddonBinding; reason: FallbackReason; detail: RegExp }[] = [
    { name: "a marker, even with a working addon", agent: "embed", addon: () => fakeAddon(), reason: "ENGINE_IS_MARKER", detail: /marker/ },
    { name: "no GPU", agent: "trt", addon: () => fakeAddon({ devices: [] }), reason: "TRT_UNAVAILABLE", detail: /no CUDA device 0/ },
    {
      name: "another TensorRT version than the engine's",
      agent: "trt",
      addon: () => fakeAddon({ trtVersion: "10.13.3.9" }),
      reason: "TRT_VERSION_MISMATCH",
      detail: /RUNTIME_TRT_MISMATCH/,
    },
    {
      name: "another compute capability than the engine's",
      agent: "trt",
      addon: () =>
        fakeAddon({
          devices: [
            {
              index: 0,
              name: "fake H100",
              uuid: "GPU-00000000-0000-0000-0000-000000000000",
              computeCapability: "9.0",
              totalMemoryBytes: 80e9,
              multiProcessorCount: 132,
            },
          ],
        }),
      reason: "COMPUTE_CAPABILITY_MISMATCH",
      detail: /RUNTIME_CC_MISMATCH/,
    },
    {
      name: "engine bytes that are not the ones the metadata's checksum names",
      agent: "corrupt",
      addon: () => fakeAddon(),
      reason: "ENGINE_CHECKSUM_MISMATCH",
      detail: /CHECKSUM_MISMATCH/,
    },
    {
      name: "a plan TensorRT cannot deserialize",
      agent: "garbage",
      addon: () => fakeAddon(),
      reason: "ENGINE_DESERIALIZE_FAILED",
      detail: /could not deserialize/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ONNX Runtime fallback, reason ${c.reason}`, async () => {
      const addon = countingAddon(c.addon());
      const model = await openServedModel({ storeRoot: root, agent: c.agent }, { addon });
      try {
        expect(model.evidence.backend).toBe("onnxruntime");
        expect(model.evidence.fallback_reason).toBe(c.reason);
        expect(model.fallbackDetail).toMatch(c.detail);
        // Only the deserialize case got as far as TensorRT.
        expect(addon.loads).toBe(c.reason === "ENGINE_DESERIALIZE_FAILED" ? 1 : 0);
        const out = await model.run(model.tokenize(["Oil prices fell sharply on Monday."], { truncate: false }));
        expect(out.find((o) => o.name === "sentence_embedding")!.shape).toEqual([1, 384]);
      } finally {
        await model.dispose();
      }
    });
  }

  it("without the addon built on this host: TRT_UNAVAILABLE naming why", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "trt" });
    try {
      expect(model.evidence.fallback_reason).toBe("TRT_UNAVAILABLE");
      expect(model.fallbackDetail).toMatch(/not built|cannot be loaded|failed to load/);
    } finally {
      await model.dispose();
    }
  });

  it("forceOnnxRuntime serves the fallback with FORCED_ONNXRUNTIME although the engine could load", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "trt" }, { addon: fakeAddon(), forceOnnxRuntime: true });
    await model.dispose();
    expect(model.evidence.fallback_reason).toBe("FORCED_ONNXRUNTIME");
  });

  it("strict mode refuses with TENSORRT_REQUIRED and the reason, and logs the fallback decision once when it does fall back", async () => {
    const err = await rejection(
      openServedModel({ storeRoot: root, agent: "trt" }, { addon: fakeAddon({ trtVersion: "10.13.3.9" }), requireTensorRT: true }),
    );
    expect(err.code).toBe("TENSORRT_REQUIRED");
    expect(err.details).toMatchObject({ reason: "TRT_VERSION_MISMATCH" });
    expect(err.input).toBe("trt@v1");
    expect(err.message).toContain("RUNTIME_TRT_MISMATCH");

    const lines: string[] = [];
    const logger = pino({ level: "info" }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const model = await openServedModel({ storeRoot: root, agent: "embed" }, { logger });
    const texts = await agNewsTexts(4);
    for (let i = 0; i < 3; i++) await model.run(model.tokenize(texts, { truncate: true }));
    await model.dispose();
    const fallbackLines = lines
      .map((l) => JSON.parse(l) as { msg: string; fallback_reason?: string })
      .filter((l) => l.msg === "serving on the ONNX Runtime fallback");
    expect(fallbackLines).toHaveLength(1);
    expect(fallbackLines[0]!.fallback_reason).toBe("ENGINE_IS_MARKER");
  });

  it("a loadable engine runs on the tensorrt backend: token rows in as the engine's dtype, outputs back per row", async () => {
    for (const dtype of ["int64", "int32"] as const) {
      const agent = `trt-${dtype}`;
      await publishVersion({
        root,
        agent,
        version: "v1",
        engine: { kind: "plan", bytes: dtype === "int64" ? plan : await fakePlan("int32") },
      });
      const addon = countingAddon(fakeAddon());
      const model = await openServedModel({ storeRoot: root, agent }, { addon, requireTensorRT: true });
      try {
        expect(addon.loads).toBe(1);
        expect(model.evidence).toMatchObject({
          backend: "tensorrt",
          precision: "fp16",
          checksum: await sha256Of(join(root, agent, "versions", "v1", model.evidence.artifact)),
          // The device the addon reports for device 0: the GPU the worker is pinned to.
          gpu_uuid: addon.devices()[0]!.uuid,
          compute_capability: addon.devices()[0]!.computeCapability,
        });
        expect(model.evidence.gpu_uuid).toMatch(/^GPU-/);
        expect(model.evidence.fallback_reason).toBeUndefined();
        expect(model.evidence.artifact).toMatch(/\.engine$/);
        const tokens = model.tokenize(["Short one.", "A somewhat longer sentence about the markers and the bonds."], { truncate: false });
        const out = await model.run(tokens);
        const embedding = out.find((o) => o.name === "sentence_embedding") as Extract<OutputTensor, { datatype: "FP32" }>;
        const hidden = out.find((o) => o.name === "last_hidden_state") as Extract<OutputTensor, { datatype: "FP32" }>;
        expect(embedding.shape).toEqual([2, 384]);
        // The fake writes each row's attended-token count as fp16; the backend widens it to FP32.
        const attended = [0, 1].map((r) =>
          Number(tokens.attentionMask.subarray(r * tokens.seqLen, (r + 1) * tokens.seqLen).reduce((a, b) => a + b, 0n)),
        );
        expect(embedding.data[0]).toBe(attended[0]);
        expect(embedding.data[384]).toBe(attended[1]);
        expect(attended[0]).toBeLessThan(attended[1]!);
        expect(hidden.shape).toEqual([2, tokens.seqLen, 384]);
        expect(hidden.data[(tokens.seqLen + 1) * 384]).toBe(Number(tokens.inputIds[tokens.seqLen + 1]));
      } finally {
        await model.dispose();
      }
      // dispose() freed the engine.
      expect(addon.engines.map((e) => e.disposed)).toEqual([true]);
    }
  });
});

describe("the fallback computes what the ONNX computes", () => {
  it("outputs equal a bare onnxruntime-node session on the same ONNX for real AG News articles", async () => {
    const texts = await agNewsTexts(8, 100);
    const model = await openServedModel({ storeRoot: root, agent: "embed" });
    const tokenizer = await loadTokenizer(minilmDir());
    const session = await InferenceSession.create(minilmOnnx());
    try {
      const served = await model.run(model.tokenize(texts, { truncate: true }));
      const enc = tokenizer.encodeBatch(texts, { maxLength: MAX_SEQ, padding: "longest", truncation: true });
      const dims = [enc.batchSize, enc.seqLen];
      const direct = await session.run({
        input_ids: new Tensor("int64", enc.inputIds, dims),
        attention_mask: new Tensor("int64", enc.attentionMask, dims),
        token_type_ids: new Tensor("int64", enc.tokenTypeIds!, dims),
      });
      for (const name of ["sentence_embedding", "last_hidden_state"]) {
        const mine = served.find((o) => o.name === name)!;
        const theirs = direct[name]!;
        expect(mine.shape).toEqual(theirs.dims.map(Number));
        const a = mine.data as Float32Array;
        const b = theirs.data as Float32Array;
        let maxDiff = 0;
        for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        expect(maxDiff, name).toBeLessThan(1e-5);
      }
    } finally {
      await Promise.all([model.dispose(), session.release()]);
    }
  });

  it("tokenize refuses a text over the profile's maximum with TEXT_TOO_LONG, or truncates it when asked", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "embed" });
    try {
      const long = "word ".repeat(400);
      const err = thrown(() => model.tokenize(["fine", long], { truncate: false }));
      expect(err.code).toBe("TEXT_TOO_LONG");
      expect(err.message).toMatch(/^text 1 has 402 tokens, more than .* 128/);
      expect(model.tokenize(["fine", long], { truncate: true }).seqLen).toBe(MAX_SEQ);
      // Rows over the profile are admission's to refuse (admission.test.ts), before any tokenizing.
      expect(thrown(() => admit(model, { texts: Array<string>(MAX_BATCH + 1).fill("x"), truncate: false })).code).toBe("BATCH_TOO_LARGE");
    } finally {
      await model.dispose();
    }
  });

  it("dispose waits for runs in flight, is idempotent, and later runs are refused", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "embed" });
    const running = model.run(model.tokenize(await agNewsTexts(MAX_BATCH), { truncate: true }));
    const disposed = model.dispose();
    expect(model.dispose()).toBe(disposed);
    await disposed;
    // The run started before dispose completed with real outputs.
    expect((await running).find((o) => o.name === "sentence_embedding")!.shape).toEqual([MAX_BATCH, 384]);
    expect((await rejection(model.run(model.tokenize(["late"], { truncate: false })))).code).toBe("ENGINE_DISPOSED");
  });
});

describe("which ONNX the fallback runs", () => {
  it("int8 runs the Q/DQ ONNX (auto too, when it is the best present), auto prefers the CPU-serving ONNX its record names, cpu without one is refused", async () => {
    const qdq = await minilmQdqOnnx();
    await publishVersion({ root, agent: "variants", version: "v1", onnx: { "model.onnx": minilmOnnx(), "model.qdq.onnx": qdq } });
    const int8 = await openServedModel({ storeRoot: root, agent: "variants" }, { onnxVariant: "int8" });
    const fp32Model = await openServedModel({ storeRoot: root, agent: "variants" }, { onnxVariant: "fp32" });
    try {
      expect(int8.evidence).toMatchObject({ artifact: "model.qdq.onnx", precision: "int8", checksum: await sha256Of(qdq) });
      expect(fp32Model.evidence).toMatchObject({ artifact: "model.onnx", precision: "fp32", checksum: onnxSha });
      const texts = await agNewsTexts(4, 200);
      const [a, b] = await Promise.all([
        int8.run(int8.tokenize(texts, { truncate: true })),
        fp32Model.run(fp32Model.tokenize(texts, { truncate: true })),
      ]);
      const ea = a.find((o) => o.name === "sentence_embedding")!.data as Float32Array;
      const eb = b.find((o) => o.name === "sentence_embedding")!.data as Float32Array;
      let dot = 0,
        na = 0,
        nb = 0;
      for (let i = 0; i < 384; i++) {
        dot += ea[i]! * eb[i]!;
        na += ea[i]! ** 2;
        nb += eb[i]! ** 2;
      }
      // Quantized, so not identical, but the same sentence.
      expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.9);
      expect(Array.from(ea.subarray(0, 8))).not.toEqual(Array.from(eb.subarray(0, 8)));
    } finally {
      await Promise.all([int8.dispose(), fp32Model.dispose()]);
    }
    expect((await rejection(openServedModel({ storeRoot: root, agent: "variants" }, { onnxVariant: "cpu" }))).code).toBe(
      "MODEL_UNSERVABLE",
    );
    // Without a CPU-serving ONNX, auto serves the Q/DQ ONNX; without that either, the fp32 export.
    const autoQdq = await openServedModel({ storeRoot: root, agent: "variants" }, { onnxVariant: "auto" });
    await autoQdq.dispose();
    expect(autoQdq.evidence.artifact).toBe("model.qdq.onnx");
    expect((await rejection(openServedModel({ storeRoot: root, agent: "embed" }, { onnxVariant: "int8" }))).code).toBe("MODEL_UNSERVABLE");

    await publishVersion({
      root,
      agent: "variants",
      version: "v2",
      onnx: { "model.onnx": minilmOnnx(), "model.cpu-int8.onnx": qdq },
      extra: [{ path: "cpu-serving.json", data: JSON.stringify({ file: "model.cpu-int8.onnx", precision: "int8" }) }],
    });
    const cpu = await openServedModel({ storeRoot: root, agent: "variants" });
    await cpu.dispose();
    expect(cpu.evidence).toMatchObject({ artifact: "model.cpu-int8.onnx", precision: "cpu-int8" });
    const fp32 = await openServedModel({ storeRoot: root, agent: "variants" }, { onnxVariant: "fp32" });
    await fp32.dispose();
    expect(fp32.evidence.artifact).toBe("model.onnx");
  }, 600_000);

  it("serves a dynamically quantized CPU ONNX row by row: a text gets the same outputs alone or in any batch", async () => {
    const cpuOnnx = await minilmCpuInt8Onnx();
    await publishVersion({
      root,
      agent: "dynamic",
      version: "v1",
      onnx: { "model.onnx": minilmOnnx(), "model.cpu.onnx": cpuOnnx },
      extra: [
        { path: "cpu-serving.json", data: JSON.stringify({ file: "model.cpu.onnx", precision: "int8", quantization: "dynamic-int8" }) },
      ],
    });
    const texts = await agNewsTexts(6, 40);
    const model = await openServedModel({ storeRoot: root, agent: "dynamic" });
    const embeddingOf = (outputs: OutputTensor[]) => outputs.find((o) => o.name === "sentence_embedding")!.data as Float32Array;
    try {
      expect(model.evidence).toMatchObject({ artifact: "model.cpu.onnx", precision: "cpu-int8" });
      const batch = model.tokenize(texts, { truncate: true });
      const together = await model.run(batch);
      const hidden = together.find((o) => o.name === "last_hidden_state")!;
      expect(hidden.shape).toEqual([texts.length, batch.seqLen, 384]);
      for (const [i, text] of texts.entries()) {
        const own = model.tokenize([text], { truncate: true });
        const alone = await model.run(own);
        expect(Array.from(embeddingOf(together).subarray(i * 384, (i + 1) * 384)), `text ${i}`).toEqual(Array.from(embeddingOf(alone)));
        // Per-token outputs: the row's own tokens, then zeros where the batch padded it.
        const row = (hidden.data as Float32Array).subarray(i * batch.seqLen * 384, (i + 1) * batch.seqLen * 384);
        const ownHidden = alone.find((o) => o.name === "last_hidden_state")!.data as Float32Array;
        expect(Array.from(row.subarray(0, own.seqLen * 384))).toEqual(Array.from(ownHidden));
        expect(row.subarray(own.seqLen * 384).every((v) => v === 0)).toBe(true);
      }
      // Why: the bare session's rows do shift with their batch (activation scales over all of it).
      const session = await InferenceSession.create(cpuOnnx);
      try {
        const feeds = (t: typeof batch) =>
          Object.fromEntries(session.inputNames.map((name) => [name, new Tensor("int64", tokenInput(t, name)!, [t.rows, t.seqLen])]));
        const batched = (await session.run(feeds(batch))).sentence_embedding!.data as Float32Array;
        const first = (await session.run(feeds(model.tokenize([texts[0]!], { truncate: true })))).sentence_embedding!.data as Float32Array;
        let diff = 0;
        for (let c = 0; c < 384; c++) diff = Math.max(diff, Math.abs(batched[c]! - first[c]!));
        expect(diff).toBeGreaterThan(1e-3);
      } finally {
        await session.release();
      }
    } finally {
      await model.dispose();
    }
  }, 600_000);
});
