import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../../../tests/support/errors.js";
import {
  admit,
  createBatcher,
  openServedModel,
  type BatchReport,
  type ExecutionCost,
  type OpenedModel,
  type OutputTensor,
  type ServedModel,
} from "../src/index.js";
import { agNewsTexts, MAX_BATCH, publishVersion } from "./fixtures.js";

// Given execution costs, so that grouping does not depend on this host's own measurement: the shape
// measured on 2 threads (docs/serving.md), and one whose executions cost far more than padding.
const TWO_THREADS: ExecutionCost = { fixedMs: 0.2, perCellMs: 0.1 };
const HIGH_FIXED: ExecutionCost = { fixedMs: 100, perCellMs: 0.01 };
const MERGE_ALL: ExecutionCost = { fixedMs: Infinity, perCellMs: 0 };

let dir: string;
let model: OpenedModel;
let texts: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-batcher-"));
  await publishVersion({ root: join(dir, "store"), agent: "embed", version: "v1" });
  model = await openServedModel({ storeRoot: join(dir, "store"), agent: "embed" });
  texts = await agNewsTexts(40, 300);
}, 300_000);

afterAll(async () => {
  await model?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function maxAbsDiff(a: OutputTensor, b: OutputTensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  return max;
}

describe("createBatcher", () => {
  it("measures the ONNX Runtime model's execution cost when it opens", () => {
    expect(model.evidence.backend).toBe("onnxruntime");
    expect(model.executionCost).toBeDefined();
    expect(model.executionCost!.fixedMs).toBeGreaterThanOrEqual(0);
    expect(model.executionCost!.perCellMs).toBeGreaterThan(0);
  });

  it("merges concurrent requests into fewer executions and gives each request exactly what it gets alone", async () => {
    const reports: BatchReport[] = [];
    // An execution costs more than any padding, so the requests merge whatever their lengths.
    const batcher = createBatcher({ maxQueueDelayMs: 200, maxQueue: 64, executionCost: MERGE_ALL, onBatch: (r) => reports.push(r) });
    // Requests of 1 to 3 real articles, of different lengths, so rows are padded when merged.
    const requests: string[][] = [];
    for (let i = 0, at = 0; i < 8; i++) {
      const n = (i % 3) + 1;
      requests.push(texts.slice(at, at + n));
      at += n;
    }
    const tokens = requests.map((r) => model.tokenize(r, { truncate: true }));
    const results = await Promise.all(tokens.map((t) => batcher.infer(admit(model, { tokens: t }))));
    const rows = tokens.reduce((n, t) => n + t.rows, 0);
    expect(reports.reduce((n, r) => n + r.requests, 0)).toBe(8);
    expect(reports.reduce((n, r) => n + r.rows, 0)).toBe(rows);
    expect(reports.length).toBeLessThan(8);
    expect(Math.max(...reports.map((r) => r.requests))).toBeGreaterThan(1);
    for (const r of reports) {
      expect(r).toMatchObject({ agent: "embed", version: "v1", backend: "onnxruntime", ok: true });
      expect(r.rows).toBeLessThanOrEqual(MAX_BATCH);
    }
    for (const [i, t] of tokens.entries()) {
      const alone = await model.run(t);
      const { outputs, evidence } = results[i]!;
      expect(evidence).toBe(model.evidence);
      for (const name of ["sentence_embedding", "last_hidden_state"]) {
        const mine = outputs.find((o) => o.name === name)!;
        // last_hidden_state comes back at the request's own sequence length, not the batch's.
        expect(
          maxAbsDiff(
            mine,
            alone.find((o) => o.name === name)!,
          ),
          `${name} of request ${i}`,
        ).toBeLessThan(1e-4);
      }
    }
    await batcher.close();
  });

  it("waits at most maxQueueDelayMs for others, and not at all once a full batch is queued", async () => {
    const reports: BatchReport[] = [];
    const slow = createBatcher({ maxQueueDelayMs: 300, maxQueue: 64, onBatch: (r) => reports.push(r) });
    await slow.infer(admit(model, { tokens: model.tokenize([texts[0]!], { truncate: true }) }));
    expect(reports[0]!.queueSeconds[0]).toBeGreaterThanOrEqual(0.295);
    expect(reports[0]!.queueSeconds[0]).toBeLessThan(3);
    await slow.close();

    const full: BatchReport[] = [];
    const eager = createBatcher({ maxQueueDelayMs: 60_000, maxQueue: 64, executionCost: MERGE_ALL, onBatch: (r) => full.push(r) });
    const started = Date.now();
    const halves = [texts.slice(0, MAX_BATCH / 2), texts.slice(MAX_BATCH / 2, MAX_BATCH)];
    await Promise.all(halves.map((h) => eager.infer(admit(model, { tokens: model.tokenize(h, { truncate: true }) }))));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(full).toHaveLength(1);
    expect(full[0]!.rows).toBe(MAX_BATCH);
    await eager.close();
  });

  it("runs requests of very different lengths apart where an execution's fixed cost is small (2 threads), and merges them where it is high", async () => {
    const short = model.tokenize([texts[0]!.split(" ").slice(0, 4).join(" ")], { truncate: true });
    const long = model.tokenize([texts.slice(0, 6).join(" ")], { truncate: true });
    expect(long.seqLen).toBeGreaterThan(4 * short.seqLen);
    const mixed = [short, long, short, long, short, long, short, long];
    const runMixed = async (executionCost: ExecutionCost | undefined, served: ServedModel = model) => {
      const reports: BatchReport[] = [];
      // infer() queues synchronously, so all eight are waiting when the delay ends.
      const batcher = createBatcher({
        maxQueueDelayMs: 100,
        maxQueue: 64,
        ...(executionCost === undefined ? {} : { executionCost }),
        onBatch: (r) => reports.push(r),
      });
      const results = await Promise.all(mixed.map((tokens) => batcher.infer(admit(served, { tokens }))));
      await batcher.close();
      return { reports, results };
    };
    // 2 threads: padding a short row to a long one costs more than the ~0.2 ms an execution adds.
    const grouped = await runMixed(TWO_THREADS);
    expect(grouped.reports.map((r) => [r.requests, r.rows, r.seqLen])).toEqual([
      [4, 4, short.seqLen],
      [4, 4, long.seqLen],
    ]);
    // A high fixed cost: eight requests of mixed lengths run in fewer executions than requests.
    const merged = await runMixed(HIGH_FIXED);
    expect(merged.reports.map((r) => [r.requests, r.rows, r.seqLen])).toEqual([[8, 8, long.seqLen]]);
    expect(merged.reports.length).toBeLessThan(mixed.length);
    // Without the option the model's own cost (measured at load on its host) decides.
    const measured = await runMixed(undefined, { ...model, executionCost: HIGH_FIXED });
    expect(measured.reports.map((r) => [r.requests, r.rows, r.seqLen])).toEqual([[8, 8, long.seqLen]]);
    // Either way each request gets what it gets alone.
    for (const [i, tokens] of mixed.entries()) {
      const alone = (await model.run(tokens)).find((o) => o.name === "sentence_embedding")!;
      for (const { results } of [grouped, merged]) {
        expect(
          maxAbsDiff(
            results[i]!.outputs.find((o) => o.name === "sentence_embedding")!,
            alone,
          ),
        ).toBeLessThan(1e-4);
      }
    }
  });

  it("on ONNX Runtime, splits one request of texts of mixed lengths into length groups and gives its rows back in order", async () => {
    // Short and long real texts alternating, in one request of the model's maximum batch.
    const mixedTexts = Array.from({ length: MAX_BATCH }, (_, i) =>
      i % 2 === 0 ? texts[i]!.split(" ").slice(0, 3).join(" ") : texts.slice(i, i + 4).join(" "),
    );
    const tokens = model.tokenize(mixedTexts, { truncate: true });
    const reports: BatchReport[] = [];
    const batcher = createBatcher({ maxQueueDelayMs: 0, maxQueue: 4, executionCost: TWO_THREADS, onBatch: (r) => reports.push(r) });
    const result = await batcher.infer(admit(model, { tokens }));
    await batcher.close();
    // Not one execution padded to the longest text: the short rows ran at their own, shorter length.
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.reduce((n, r) => n + r.rows, 0)).toBe(MAX_BATCH);
    expect(Math.min(...reports.map((r) => r.seqLen))).toBeLessThan(tokens.seqLen / 2);
    expect(reports.reduce((n, r) => n + r.queueSeconds.length, 0)).toBe(1);
    const embedding = result.outputs.find((o) => o.name === "sentence_embedding")!;
    const hidden = result.outputs.find((o) => o.name === "last_hidden_state")!;
    expect(embedding.shape).toEqual([MAX_BATCH, 384]);
    expect(hidden.shape).toEqual([MAX_BATCH, tokens.seqLen, 384]);
    // Row i is text i's own result, as when it is sent alone (order kept, values equal).
    for (const [i, text] of mixedTexts.entries()) {
      const alone = await model.run(model.tokenize([text], { truncate: true }));
      const aloneEmbedding = alone.find((o) => o.name === "sentence_embedding")!;
      const aloneHidden = alone.find((o) => o.name === "last_hidden_state")!;
      const row = embedding.data.slice(i * 384, (i + 1) * 384) as Float32Array;
      let diff = 0;
      row.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - (aloneEmbedding.data[k] as number)))));
      expect(diff).toBeLessThan(1e-4);
      const ownLength = aloneHidden.shape[1]!;
      const hiddenRow = hidden.data.slice(i * tokens.seqLen * 384, (i * tokens.seqLen + ownLength) * 384) as Float32Array;
      let hiddenDiff = 0;
      hiddenRow.forEach((x, k) => (hiddenDiff = Math.max(hiddenDiff, Math.abs(x - (aloneHidden.data[k] as number)))));
      expect(hiddenDiff).toBeLessThan(1e-4);
    }
  });

  it("bounds its queue (OVERLOADED), and close() finishes what was queued", async () => {
    const batcher = createBatcher({ maxQueueDelayMs: 60_000, maxQueue: 2 });
    const one = () => batcher.infer(admit(model, { tokens: model.tokenize([texts[1]!], { truncate: true }) }));
    const queued = [one(), one()];
    expect(batcher.pending).toBe(2);
    const overloaded = await rejection(one());
    expect(overloaded.code).toBe("OVERLOADED");
    await batcher.close();
    const done = await Promise.all(queued);
    expect(done.map((d) => d.outputs.find((o) => o.name === "sentence_embedding")!.shape)).toEqual([
      [1, 384],
      [1, 384],
    ]);
    expect((await rejection(one())).code).toBe("MODEL_CLOSED");
  });

  it("returns only the outputs asked for, and a failed batch fails only its own requests", async () => {
    let failNext = false;
    const flaky: ServedModel = {
      ...model,
      run: (batch) => (failNext ? ((failNext = false), Promise.reject(new Error("device lost"))) : model.run(batch)),
      tokenize: model.tokenize,
      dispose: model.dispose,
    };
    const reports: BatchReport[] = [];
    const batcher = createBatcher({ maxQueueDelayMs: 0, maxQueue: 8, onBatch: (r) => reports.push(r) });
    const tokens = model.tokenize([texts[2]!], { truncate: true });
    const picked = await batcher.infer(admit(flaky, { tokens, outputs: ["sentence_embedding"] }));
    expect(picked.outputs.map((o) => o.name)).toEqual(["sentence_embedding"]);
    failNext = true;
    await expect(batcher.infer(admit(flaky, { tokens }))).rejects.toThrow("device lost");
    expect(reports.at(-1)!.ok).toBe(false);
    expect((await batcher.infer(admit(flaky, { tokens }))).outputs).toHaveLength(2);
    await batcher.close();
  });
});
