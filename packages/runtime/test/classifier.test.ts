import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer } from "@trtforge/tokenizer";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admit, createBatcher, openServedModel, type OutputTensor } from "../src/index.js";
import { agNewsTexts, MAX_BATCH, MAX_SEQ, minilmDir, publishVersion, REPO_ROOT } from "./fixtures.js";

/**
 * A small real classifier: a 2-layer BERT with a 3-class head made by transformers (seeded), with
 * MiniLM's tokenizer, exported by the project's exporter. Its logits are checked against a bare
 * ONNX Runtime session; the head (softmax or sigmoid) and id2label against config.json.
 */
const LABELS = ["World", "Sports", "Business"];
let dir: string;
let modelDir: string;
let onnx: string;
let texts: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-classifier-"));
  modelDir = join(dir, "tiny-classifier");
  const python = join(REPO_ROOT, ".venv", "bin", "python");
  const script = `
import sys, shutil, torch
from transformers import BertConfig, BertForSequenceClassification
torch.manual_seed(0)
cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 num_labels=3, id2label={0: "World", 1: "Sports", 2: "Business"}, label2id={"World": 0, "Sports": 1, "Business": 2})
BertForSequenceClassification(cfg).save_pretrained(sys.argv[1])
for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
    shutil.copy(f"{sys.argv[2]}/{f}", sys.argv[1])
`;
  const env = { ...process.env, HF_HUB_OFFLINE: "1", PYTHONPATH: join(REPO_ROOT, "python") };
  execFileSync(python, ["-c", script, modelDir, minilmDir()], { env, stdio: ["ignore", "ignore", "pipe"] });
  texts = await agNewsTexts(12, 700);
  const samples = join(dir, "samples.jsonl");
  await writeFile(samples, texts.map((text) => JSON.stringify({ text })).join("\n"));
  execFileSync(python, ["-m", "trtforge_export", "--model", modelDir, "--out", join(dir, "onnx"), "--samples", samples], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 600_000,
  });
  onnx = join(dir, "onnx", "model.onnx");
  const patch = {
    task: "classification",
    outputs: [{ name: "logits", dtype: "float32" as const, min_shape: [1, 3], opt_shape: [8, 3], max_shape: [MAX_BATCH, 3] }],
  };
  await publishVersion({
    root: join(dir, "store"),
    agent: "topic",
    version: "single",
    modelDir,
    onnx: { "model.onnx": onnx },
    metadataPatch: patch,
  });
  const config = JSON.parse(await readFile(join(modelDir, "config.json"), "utf8")) as Record<string, unknown>;
  await publishVersion({
    root: join(dir, "store"),
    agent: "topic",
    version: "multi",
    modelDir,
    onnx: { "model.onnx": onnx },
    metadataPatch: patch,
    tokenizerOverrides: { "config.json": JSON.stringify({ ...config, problem_type: "multi_label_classification" }) },
  });
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function directLogits(): Promise<Float32Array> {
  const tokenizer = await loadTokenizer(modelDir);
  const enc = tokenizer.encodeBatch(texts, { maxLength: MAX_SEQ, padding: "longest", truncation: true });
  const session = await InferenceSession.create(onnx);
  try {
    const dims = [enc.batchSize, enc.seqLen];
    const out = await session.run({
      input_ids: new Tensor("int64", enc.inputIds, dims),
      attention_mask: new Tensor("int64", enc.attentionMask, dims),
      token_type_ids: new Tensor("int64", enc.tokenTypeIds!, dims),
    });
    return out.logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function byName(outputs: OutputTensor[], name: string): OutputTensor {
  return outputs.find((o) => o.name === name)!;
}

describe("classifier serving: id2label and problem_type from config.json", () => {
  it("single-label: softmax probabilities and the argmax label, equal to the ONNX's own logits", async () => {
    const logits = await directLogits();
    const model = await openServedModel({ storeRoot: join(dir, "store"), agent: "topic", version: "single" });
    try {
      expect(model.kind).toBe("classification");
      expect(model.labels).toEqual(LABELS);
      expect(model.outputs.map((o) => `${o.name}:${o.datatype}:${o.shape.join("x")}`)).toEqual([
        "logits:FP32:-1x3",
        "label:BYTES:-1",
        "probabilities:FP32:-1x3",
      ]);
      // Through the batcher, one request per article: merged, padded and split back.
      const batcher = createBatcher({ maxQueueDelayMs: 50, maxQueue: 32 });
      const results = await Promise.all(texts.map((t) => batcher.infer(admit(model, { texts: [t], truncate: true }))));
      await batcher.close();
      results.forEach(({ outputs }, r) => {
        const row = Array.from(logits.subarray(r * 3, r * 3 + 3));
        const served = Array.from(byName(outputs, "logits").data as Float32Array);
        served.forEach((x, c) => expect(x).toBeCloseTo(row[c]!, 4));
        const exps = row.map((x) => Math.exp(x - Math.max(...row)));
        const expected = exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
        const probabilities = Array.from(byName(outputs, "probabilities").data as Float32Array);
        probabilities.forEach((p, c) => expect(p).toBeCloseTo(expected[c]!, 5));
        expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const label = (byName(outputs, "label").data as string[])[0]!;
        expect(label).toBe(LABELS[expected.indexOf(Math.max(...expected))]);
      });
      expect(byName(results[0]!.outputs, "label").shape).toEqual([1]);
    } finally {
      await model.dispose();
    }
  });

  it("multi-label (problem_type multi_label_classification): an independent sigmoid per class", async () => {
    const logits = await directLogits();
    const model = await openServedModel({ storeRoot: join(dir, "store"), agent: "topic", version: "multi" });
    try {
      const outputs = await model.run(model.tokenize(texts, { truncate: true }));
      const probabilities = byName(outputs, "probabilities");
      expect(probabilities.shape).toEqual([texts.length, 3]);
      Array.from(probabilities.data as Float32Array).forEach((p, i) => expect(p).toBeCloseTo(1 / (1 + Math.exp(-logits[i]!)), 5));
      const labels = byName(outputs, "label").data as string[];
      labels.forEach((label, r) => {
        const row = Array.from(logits.subarray(r * 3, r * 3 + 3));
        expect(label).toBe(LABELS[row.indexOf(Math.max(...row))]);
      });
    } finally {
      await model.dispose();
    }
  });
});
