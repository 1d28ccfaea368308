/**
 * A real Triton Inference Server (tritonserver 2.51.0 from nvidia-pytriton, CPU only, Python
 * backend only) loads repositories written by model-store export-triton:
 * - every generated config.pbtxt goes through Triton's own parser; the models whose backend the
 *   wheel lacks (tensorrt_plan, onnxruntime_onnx) fail only with Triton's missing-backend error;
 * - the tokenizer model gives exactly the TypeScript tokenizer's ids on 1,000 AG News articles;
 * - the text ensemble, run end to end with the TEST-ONLY Python stand-in for the ONNX step
 *   (export-triton --test-only-python-onnx), returns serve-engine's embeddings for the same texts.
 * One tritonserver serves both repositories (the stand-in export is of a second agent holding the
 * same version, so the model names differ).
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { loadTokenizer } from "@trtforge/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli-helpers.js";
import { AGENT, publishMiniLm, startServeEngine, type PublishedStore, type ServeProcess } from "../support/serve-engine.js";
import { loadModel, setupTriton, startTriton, type TritonProcess } from "../support/triton-server.js";
import { publishAs, publishRealEngine } from "../support/triton-store.js";
import { ask, protocolCases, type Answer } from "./protocol-diff.js";

const STAND_IN = "standin";
const ROOT = join(import.meta.dirname, "..", "..");

let fixture: PublishedStore;
let triton: TritonProcess;
let serve: ServeProcess | undefined;
let realRepo: string;
let standInRepo: string;

async function articles(count: number): Promise<string[]> {
  const lines = (await readFile(join(ROOT, "conf/samples/ag_news_1000.jsonl"), "utf8")).split("\n").filter((l) => l.trim() !== "");
  return lines.slice(0, count).map((l) => (JSON.parse(l) as { text: string }).text);
}

interface InferJson {
  outputs?: { name: string; datatype: string; shape: number[]; data: (number | string)[] }[];
  error?: string;
}

async function inferJson(url: string, model: string, body: unknown): Promise<{ status: number; json: InferJson }> {
  const response = await fetch(`${url}/v2/models/${model}/infer`, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as InferJson };
}

beforeAll(async () => {
  const tritonDir = setupTriton();
  fixture = await publishMiniLm();
  await publishRealEngine(fixture, "real-sm90", "9.0");
  await publishAs(fixture, STAND_IN);
  realRepo = join(fixture.dir, "repo-real");
  standInRepo = join(fixture.dir, "repo-standin");
  const real = runCli("model-store", [
    "export-triton",
    "--root",
    fixture.store,
    "--out",
    realRepo,
    "--model",
    AGENT,
    "--versions",
    "all",
    "--json",
  ]);
  if (real.status !== 0) throw new Error(real.stderr);
  const standIn = runCli("model-store", [
    "export-triton",
    "--root",
    fixture.store,
    "--out",
    standInRepo,
    "--model",
    STAND_IN,
    "--test-only-python-onnx",
    "--json",
  ]);
  if (standIn.status !== 0) throw new Error(standIn.stderr);
  triton = await startTriton(tritonDir, [realRepo, standInRepo]);
  // What the tests below run; the first test loads (and checks) every model anyway.
  for (const name of [`${AGENT}_tokenize`, `${STAND_IN}_text`]) {
    const loaded = await loadModel(triton.url, name);
    if (loaded.status !== 200) throw new Error(`Triton could not load ${name}: ${loaded.error}\n${triton.log().slice(-3000)}`);
  }
}, 900_000);

afterAll(async () => {
  await serve?.stop();
  await triton?.stop();
  await fixture?.cleanup();
});

describe("a real Triton server loads the exported repository", () => {
  it("parses every generated config; only the backends the wheel lacks fail, with Triton's missing-backend error", async () => {
    const names = [...(await readdir(realRepo)), ...(await readdir(standInRepo))].filter((n) => !n.endsWith(".json")).sort();
    expect(names).toEqual([
      `${STAND_IN}_onnx`,
      `${STAND_IN}_text`,
      `${STAND_IN}_tokenize`,
      AGENT,
      `${AGENT}_onnx`,
      `${AGENT}_text`,
      `${AGENT}_tokenize`,
    ]);
    const results: Record<string, { status: number; error: string | undefined }> = {};
    for (const name of names) results[name] = await loadModel(triton.url, name);
    // Loaded and ready: the Python tokenizer, the stand-in and the ensembles wired through them.
    for (const name of [`${AGENT}_tokenize`, `${STAND_IN}_tokenize`, `${STAND_IN}_onnx`, `${STAND_IN}_text`]) {
      expect(results[name], `${name}: ${results[name]?.error}\n${triton.log().slice(-3000)}`).toEqual({ status: 200, error: undefined });
      expect((await fetch(`${triton.url}/v2/models/${name}/ready`)).status).toBe(200);
    }
    // Parsed, then refused only because this Triton has no TensorRT or ONNX Runtime backend.
    expect(results[AGENT]!.status).toBe(400);
    expect(results[AGENT]!.error).toMatch(/unable to find backend library for backend 'tensorrt'/);
    expect(results[`${AGENT}_onnx`]!.status).toBe(400);
    expect(results[`${AGENT}_onnx`]!.error).toMatch(/unable to find backend library for backend 'onnxruntime'/);
    // The ensemble's own config parsed; it fails on its composing plan model, for the same reason.
    expect(results[`${AGENT}_text`]!.status).toBe(400);
    expect(results[`${AGENT}_text`]!.error).toMatch(/tensorrt/);
  });

  it("the tokenizer model gives the TypeScript tokenizer's ids for the first 1,000 AG News articles", async () => {
    const texts = await articles(1000);
    const tokenizer = await loadTokenizer(join(fixture.versionPath, "tokenizer"));
    let rows = 0;
    for (let start = 0; start < texts.length; start += 50) {
      const batch = texts.slice(start, start + 50);
      const { status, json } = await inferJson(triton.url, `${AGENT}_tokenize`, {
        parameters: { truncate: true },
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [batch.length], data: batch }],
      });
      expect(status, json.error).toBe(200);
      const expected = tokenizer.encodeBatch(batch, { maxLength: 128, padding: "longest", truncation: true });
      const byName = new Map(json.outputs!.map((o) => [o.name, o]));
      expect(byName.get("input_ids")!.shape).toEqual([batch.length, expected.seqLen]);
      expect(byName.get("input_ids")!.data).toEqual(Array.from(expected.inputIds, Number));
      expect(byName.get("attention_mask")!.data).toEqual(Array.from(expected.attentionMask, Number));
      expect(byName.get("token_type_ids")!.data).toEqual(Array.from(expected.tokenTypeIds!, Number));
      rows += batch.length;
    }
    expect(rows).toBe(1000);
  });

  it("refuses a text longer than the engine's limit unless truncation is asked for, as serve-engine does", async () => {
    const long = "word ".repeat(400);
    const refused = await inferJson(triton.url, `${AGENT}_tokenize`, {
      inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [long] }],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/more than the model's limit of 128/);
  });

  it("the text ensemble (with the test-only ONNX stand-in) returns serve-engine's embeddings for the same texts", async () => {
    serve = await startServeEngine(fixture.store);
    // 16 rows: the engine's max batch. Triton refuses a bigger request to an ensemble over a batching
    // model ("batch-size must be <= 16"), where serve-engine splits it; docs/scale-out.md says so.
    const texts = await articles(16);
    const body = {
      parameters: { truncate: true },
      inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
      outputs: [{ name: "sentence_embedding" }],
    };
    const fromTriton = await inferJson(triton.url, `${STAND_IN}_text`, body);
    const fromServe = await inferJson(serve.url, AGENT, body);
    expect(fromTriton.status, fromTriton.json.error).toBe(200);
    expect(fromServe.status, fromServe.json.error).toBe(200);
    const a = fromTriton.json.outputs!.find((o) => o.name === "sentence_embedding")!;
    const b = fromServe.json.outputs!.find((o) => o.name === "sentence_embedding")!;
    expect(a.shape).toEqual([16, 384]);
    expect(a.shape).toEqual(b.shape);
    // Same ONNX, same ids, onnxruntime on both sides: equal up to float reduction order.
    let worst = 0;
    for (let i = 0; i < a.data.length; i += 1) worst = Math.max(worst, Math.abs((a.data[i] as number) - (b.data[i] as number)));
    expect(worst).toBeLessThan(1e-4);
  });
});

/**
 * Where serve-engine and Triton deliberately (or knowingly) differ, with the reason. Each entry says
 * which top-level keys to leave out of the comparison on each side, or which statuses each gives;
 * everything else must match exactly, so an entry that stops being true fails the test.
 */
const DIFFERENCES: Record<
  string,
  { reason: string; dropServe?: string[]; dropTriton?: string[]; status?: { serve: number; triton: number } }
> = {
  "health ready": {
    reason:
      "this Triton was asked (first test) to load models it has no backend for (tensorrt_plan, onnxruntime_onnx); with strict readiness it then reports not ready, where serve-engine serves its one model. On a GPU host with those backends both are ready",
    status: { serve: 200, triton: 400 },
  },
  "model metadata": {
    reason: "serve-engine adds its provenance under parameters (backend, checksum, fallback reason, limits); Triton has no parameters here",
    dropServe: ["parameters"],
  },
  "JSON inference": {
    reason: "response parameters are free-form: serve-engine names the version and backend that ran, Triton its sequence fields",
    dropServe: ["parameters"],
    dropTriton: ["parameters"],
  },
  "binary inference": {
    reason: "as for JSON inference",
    dropServe: ["parameters"],
    dropTriton: ["parameters"],
  },
  "malformed JSON": {
    reason: "Triton answers an unparsable body with 500; serve-engine treats it as the client's error (400). Both carry {error}",
    status: { serve: 400, triton: 500 },
  },
};

function without(structure: unknown, keys: readonly string[] | undefined): unknown {
  if (keys === undefined || structure === null || typeof structure !== "object" || Array.isArray(structure)) return structure;
  return Object.fromEntries(Object.entries(structure).filter(([k]) => !keys.includes(k)));
}

describe("differential protocol check: serve-engine and Triton answer the same requests alike", () => {
  it("matches status codes and response structure (field names, types, error shape), except the differences listed with their reason", async () => {
    serve ??= await startServeEngine(fixture.store);
    const cases = protocolCases();
    expect(Object.keys(DIFFERENCES).every((name) => cases.some((c) => c.name === name))).toBe(true);
    for (const c of cases) {
      const fromServe: Answer = await ask(serve.url, AGENT, c);
      const fromTriton: Answer = await ask(triton.url, `${STAND_IN}_text`, c);
      const difference = DIFFERENCES[c.name];
      const label = `${c.name}: serve-engine ${JSON.stringify(fromServe)} / Triton ${JSON.stringify(fromTriton)}`;
      if (difference?.status !== undefined) {
        expect({ serve: fromServe.status, triton: fromTriton.status }, label).toEqual(difference.status);
      } else {
        expect(fromServe.status, label).toBe(fromTriton.status);
      }
      expect(without(fromServe.structure, difference?.dropServe), label).toEqual(without(fromTriton.structure, difference?.dropTriton));
      // Every error is a JSON object {"error": string} on both sides (health calls answer by status alone).
      const health = c.path.includes("/health") || c.path.endsWith("/ready");
      if (!health && fromServe.status >= 400) expect(fromServe.structure, label).toEqual({ error: "string" });
      if (!health && fromTriton.status >= 400) expect(fromTriton.structure, label).toEqual({ error: "string" });
      // A listed difference must still be one, or the list is out of date.
      if (difference?.dropServe !== undefined) expect(fromServe.structure, label).not.toEqual(fromTriton.structure);
    }
  });
});
