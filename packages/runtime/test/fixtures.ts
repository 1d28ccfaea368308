/**
 * Real store versions for the runtime tests: the MiniLM ONNX the project's exporter writes, its
 * tokenizer files and config under tokenizer/, and an engine beside them — a marker, or a plan the
 * fake addon built (loadable only by the fake addon), with v1 metadata as build-engine writes it.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readArticles } from "@trtforge/articles";
import { calibrate } from "@trtforge/calibration";
import { silentLogger, sha256Hex } from "@trtforge/core";
import { optimizeForCpu } from "@trtforge/export";
import { encodeMarker, formatEngineName, serializeMetadata, type EngineMetadata, type TensorSpec } from "@trtforge/engine-format";
import { publish, type PublishFile } from "@trtforge/model-store";
import type { HostTensor, IoTensor } from "@trtforge/native";
import { createFakeAddon, type FakeAddonOptions } from "@trtforge/native/fake";
import { insertQdq, loadOnnxModel, saveOnnxModel } from "@trtforge/onnx-graph";
import { loadTokenizer } from "@trtforge/tokenizer";
import { engineMetadataFixture } from "../../../tests/support/engine-metadata.js";
import { AG_NEWS_CSV, minilmDir, minilmOnnx, REPO_ROOT } from "../../calibration/test/minilm-onnx.js";

export { AG_NEWS_CSV, minilmDir, minilmOnnx, REPO_ROOT };

export const MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2";
export const REVISION = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
export const TRT_VERSION = "10.16.0.72";
export const MAX_BATCH = 16;
export const MAX_SEQ = 128;
const HIDDEN = 384;
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json"];

/** Real AG News article texts (title and description), the first `count` of the test split. */
export async function agNewsTexts(count: number, offset = 0): Promise<string[]> {
  const set = await readArticles(AG_NEWS_CSV);
  return set.articles.slice(offset, offset + count).map((a) => a.text);
}

function tensorSpecs(): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const input = (name: string): TensorSpec => ({
    name,
    dtype: "int64",
    min_shape: [1, 1],
    opt_shape: [8, 64],
    max_shape: [MAX_BATCH, MAX_SEQ],
  });
  return {
    inputs: [input("input_ids"), input("attention_mask"), input("token_type_ids")],
    outputs: [
      {
        name: "last_hidden_state",
        dtype: "float32",
        min_shape: [1, 1, HIDDEN],
        opt_shape: [8, 64, HIDDEN],
        max_shape: [MAX_BATCH, MAX_SEQ, HIDDEN],
      },
      { name: "sentence_embedding", dtype: "float32", min_shape: [1, HIDDEN], opt_shape: [8, HIDDEN], max_shape: [MAX_BATCH, HIDDEN] },
    ],
  };
}

function metadataFor(kind: "engine" | "marker", bytes: Uint8Array, patch: Partial<EngineMetadata> = {}): EngineMetadata {
  const fields = {
    model_id: MODEL_ID,
    hf_revision: REVISION,
    trt_version: TRT_VERSION,
    max_batch_size: MAX_BATCH,
    seq_len: MAX_SEQ,
    ...tensorSpecs(),
  };
  return engineMetadataFixture(kind, bytes, fields, patch);
}

/** The I/O of a MiniLM engine as TensorRT would report it; int32 token inputs where asked. */
export function minilmIoTensors(inputDtype: "int64" | "int32" = "int64"): IoTensor[] {
  const profile = { min: [1, 1], opt: [8, 64], max: [MAX_BATCH, MAX_SEQ] };
  const input = (name: string): IoTensor => ({ name, mode: "input", dtype: inputDtype, shape: [-1, -1], location: "device", profile });
  return [
    input("input_ids"),
    input("attention_mask"),
    input("token_type_ids"),
    { name: "last_hidden_state", mode: "output", dtype: "fp32", shape: [-1, -1, HIDDEN], location: "device" },
    { name: "sentence_embedding", mode: "output", dtype: "fp16", shape: [-1, HIDDEN], location: "device" },
  ];
}

/**
 * What the fake engine computes: sentence_embedding[r][c] = (number of attended tokens of row r) + c/1000
 * as fp16 bits, and last_hidden_state[r][t][c] = input id at (r, t). Enough to prove that rows, dtypes
 * and shapes cross the TensorRT backend in the right places.
 */
export function fakeMinilmRun(inputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const ids = inputs.input_ids!;
  const mask = inputs.attention_mask!;
  const [rows, seq] = ids.shape as [number, number];
  const hidden = new Float32Array(rows * seq * HIDDEN);
  const embedding = new Uint16Array(rows * HIDDEN);
  for (let r = 0; r < rows; r++) {
    let attended = 0;
    for (let t = 0; t < seq; t++) {
      attended += Number(mask.data[r * seq + t]);
      hidden.fill(Number(ids.data[r * seq + t]), (r * seq + t) * HIDDEN, (r * seq + t + 1) * HIDDEN);
    }
    for (let c = 0; c < HIDDEN; c++) embedding[r * HIDDEN + c] = float16Bits(attended + c / 1000);
  }
  return {
    last_hidden_state: { data: hidden, shape: [rows, seq, HIDDEN] },
    sentence_embedding: { data: embedding, shape: [rows, HIDDEN] },
  };
}

function float16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = (bits >>> 13) & 0x3ff;
  if (exponent <= 0) return sign;
  return sign | (exponent << 10) | mantissa;
}

export function fakeAddon(overrides: FakeAddonOptions = {}) {
  return createFakeAddon({ run: fakeMinilmRun, ...overrides });
}

/** A plan the fake addon builds (and only it loads), with the MiniLM I/O. */
export async function fakePlan(inputDtype: "int64" | "int32" = "int64"): Promise<Buffer> {
  const addon = createFakeAddon({ ioTensors: minilmIoTensors(inputDtype) });
  const profile = (input: string) => ({ input, min: [1, 1], opt: [8, 64], max: [MAX_BATCH, MAX_SEQ] });
  const built = await addon.buildEngine({
    onnxPath: minilmOnnx(),
    precision: "fp16",
    profiles: ["input_ids", "attention_mask", "token_type_ids"].map(profile),
  }).promise;
  return built.engine;
}

export type EngineKind =
  { kind: "marker" } | { kind: "plan"; bytes: Uint8Array; patch?: Partial<EngineMetadata>; corruptAfterMetadata?: boolean };

export interface VersionSpec {
  root: string;
  agent: string;
  version: string;
  engine?: EngineKind;
  /** ONNX files to include, by their published name; default the fp32 export as model.onnx. */
  onnx?: Record<string, string>;
  /** Replaces files of the tokenizer folder (e.g. a config.json with id2label). */
  tokenizerOverrides?: Record<string, string>;
  /** A different model folder for the tokenizer files (default MiniLM). */
  modelDir?: string;
  extra?: PublishFile[];
  setCurrent?: boolean;
  metadataPatch?: Partial<EngineMetadata>;
}

/** Publishes a servable version with the store's own publish(), as the pipeline would. */
export async function publishVersion(spec: VersionSpec) {
  const engine = spec.engine ?? { kind: "marker" };
  let bytes: Uint8Array;
  let metadata: EngineMetadata;
  if (engine.kind === "marker") {
    bytes = encodeMarker({
      task: "embeddings",
      model_id: MODEL_ID,
      hf_revision: REVISION,
      trt_version: TRT_VERSION,
      precision: "fp16",
      created_at: "2026-12-01T12:00:00.000Z",
    });
    metadata = metadataFor("marker", bytes, spec.metadataPatch);
  } else {
    metadata = metadataFor("engine", engine.bytes, { ...spec.metadataPatch, ...engine.patch });
    bytes = engine.corruptAfterMetadata ? Buffer.concat([Buffer.from(engine.bytes), Buffer.from("flipped")]) : engine.bytes;
  }
  const engineName = formatEngineName({
    task: metadata.task,
    modelId: metadata.model_id,
    revision: metadata.hf_revision,
    trtVersion: metadata.trt_version,
    precision: metadata.precision,
  });
  const modelDir = spec.modelDir ?? minilmDir();
  const files: PublishFile[] = [
    { path: engineName, data: bytes },
    { path: engineName.replace(/\.engine$/, ".json"), data: serializeMetadata(metadata) },
    ...Object.entries(spec.onnx ?? { "model.onnx": minilmOnnx() }).map(([path, sourcePath]) => ({ path, sourcePath })),
    ...TOKENIZER_FILES.filter((f) => existsSync(join(modelDir, f)) && spec.tokenizerOverrides?.[f] === undefined).map((f) => ({
      path: `tokenizer/${f}`,
      sourcePath: join(modelDir, f),
    })),
    ...Object.entries(spec.tokenizerOverrides ?? {}).map(([f, data]) => ({ path: `tokenizer/${f}`, data })),
    ...(spec.extra ?? []),
  ];
  return publish({
    root: spec.root,
    agent: spec.agent,
    version: spec.version,
    files,
    metadata: { engine: engineName, model_id: MODEL_ID, hf_revision: REVISION },
    setCurrent: spec.setCurrent ?? true,
  });
}

/**
 * A Q/DQ int8 ONNX of MiniLM made by the project's own calibration and insertQdq (16 real articles:
 * enough for a valid quantized graph in tests; the benchmark uses the pipeline's), cached in
 * .tools/models like the fp32 export.
 */
export async function minilmQdqOnnx(): Promise<string> {
  return cachedModelFile("all-MiniLM-L6-v2.onnx-qdq-test", "model.qdq.onnx", async (out) => {
    const fp32 = minilmOnnx();
    const result = await calibrate({
      onnxPath: fp32,
      tokenizer: await loadTokenizer(minilmDir()),
      articles: await readArticles(AG_NEWS_CSV),
      samples: 16,
      batchSize: 16,
      seqLen: 128,
      trtVersion: "10.16.0",
    });
    const qdq = insertQdq(await loadOnnxModel(fp32), { activationScales: result.scales });
    await saveOnnxModel(qdq.model, out);
  });
}

/**
 * The pipeline's CPU-serving form of MiniLM (fused, dynamic int8: python -m trtforge_export.cpu_serving
 * through @trtforge/export), cached in .tools/models like the Q/DQ fixture.
 */
export async function minilmCpuInt8Onnx(): Promise<string> {
  return cachedModelFile("all-MiniLM-L6-v2.onnx-cpu-int8-test", "model.cpu.onnx", async (out) => {
    await optimizeForCpu({ onnxPath: minilmOnnx(), modelDir: minilmDir(), out, quantization: "dynamic-int8", logger: silentLogger() });
  });
}

/**
 * .tools/models/<dirName>/<fileName>, made once by `build(path)` in a temporary folder that is then
 * renamed into place, so a concurrent or interrupted build never leaves a half-written file there.
 */
async function cachedModelFile(dirName: string, fileName: string, build: (out: string) => Promise<void>): Promise<string> {
  const models = join(REPO_ROOT, ".tools", "models");
  const dir = join(models, dirName);
  const path = join(dir, fileName);
  if (existsSync(path)) return path;
  mkdirSync(models, { recursive: true });
  const work = mkdtempSync(join(models, `.${dirName}-`));
  try {
    await build(join(work, fileName));
    try {
      renameSync(work, dir);
    } catch (err) {
      if (!existsSync(path)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return path;
}

export async function sha256Of(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}

/** Polls `condition` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
