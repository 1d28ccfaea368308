import { describe, expect, it } from "vitest";
import { thrown } from "../../../tests/support/errors.js";
import {
  admit,
  createBatcher,
  type BatchReport,
  type ModelLease,
  type ModelProvider,
  type OutputTensor,
  type ServedModel,
  type TokenRows,
} from "../src/index.js";

/**
 * A served model whose tokenizer maps each word to (its length + offset): two versions with other
 * offsets tokenize the same text differently, as two real tokenizers would. Its output "ids" echoes
 * the ids it ran, and "version" the version that ran them.
 */
function versionDouble(version: string, offset: number): ServedModel {
  const evidence = {
    model_id: "test/double",
    hf_revision: "0".repeat(12),
    agent: "news",
    version,
    backend: "tensorrt" as const,
    precision: "fp16",
    checksum: "ab".repeat(32),
    artifact: "model.engine",
  };
  return {
    agent: "news",
    version,
    kind: "embedding",
    evidence,
    profile: { batch: { min: 1, opt: 2, max: 4 }, sequence: { min: 1, opt: 4, max: 6 } },
    inputs: [
      { name: "input_ids", datatype: "INT64", shape: [-1, -1] },
      { name: "attention_mask", datatype: "INT64", shape: [-1, -1] },
    ],
    outputs: [
      { name: "ids", datatype: "INT64", shape: [-1, -1] },
      { name: "version", datatype: "BYTES", shape: [-1] },
    ],
    labels: undefined,
    vocabSize: 100,
    tokenize(texts, { truncate }) {
      const rows = texts.map((text) => text.split(" ").map((word) => BigInt(word.length + offset)));
      if (!truncate && rows.some((row) => row.length > 6)) throw new Error("too long");
      const seqLen = Math.min(6, Math.max(...rows.map((row) => row.length)));
      const inputIds = new BigInt64Array(rows.length * seqLen);
      const attentionMask = new BigInt64Array(rows.length * seqLen);
      rows.forEach((row, r) =>
        row.slice(0, seqLen).forEach((id, t) => {
          inputIds[r * seqLen + t] = id;
          attentionMask[r * seqLen + t] = 1n;
        }),
      );
      return { rows: rows.length, seqLen, inputIds, attentionMask };
    },
    async run(batch: TokenRows): Promise<OutputTensor[]> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return [
        { name: "ids", datatype: "INT64", shape: [batch.rows, batch.seqLen], data: batch.inputIds.slice() },
        { name: "version", datatype: "BYTES", shape: [batch.rows], data: Array<string>(batch.rows).fill(version) },
      ];
    },
    async dispose() {},
  };
}

/** A provider whose serving model the test switches, counting the leases taken and not yet released. */
function switchable(first: ServedModel): ModelProvider & { serving: ServedModel; open: Map<string, number> } {
  const open = new Map<string, number>();
  const provider = {
    serving: first,
    open,
    get current() {
      return provider.serving;
    },
    acquire(): ModelLease {
      const model = provider.serving;
      open.set(model.version, (open.get(model.version) ?? 0) + 1);
      let released = false;
      return {
        model,
        release: () => {
          if (released) return;
          released = true;
          open.set(model.version, open.get(model.version)! - 1);
        },
      };
    },
  };
  return provider;
}

const tokens = (rows: number, seqLen: number, fill = 5n): TokenRows => ({
  rows,
  seqLen,
  inputIds: new BigInt64Array(rows * seqLen).fill(fill),
  attentionMask: new BigInt64Array(rows * seqLen).fill(1n),
});

describe("admit", () => {
  it("checks rows, sequence length, token values and outputs once, against the leased version, and releases the lease on refusal", () => {
    const provider = switchable(versionDouble("v1", 0));
    const cases: [string, () => unknown, string, RegExp][] = [
      ["oversize", () => admit(provider, { tokens: tokens(5, 2) }), "BATCH_TOO_LARGE", /5 rows but model "news" takes at most 4/],
      ["empty", () => admit(provider, { texts: [], truncate: true }), "INPUT_MISMATCH", /empty batch/],
      ["too many tokens", () => admit(provider, { tokens: tokens(1, 7) }), "TEXT_TOO_LONG", /7 tokens per row; model "news" takes 1 to 6/],
      [
        "id over the vocabulary",
        () => admit(provider, { tokens: tokens(1, 2, 100n) }),
        "INPUT_MISMATCH",
        /element 0 \(row 0, token 0\) is 100/,
      ],
      [
        "type ids to a model without them",
        () => admit(provider, { tokens: { ...tokens(1, 2), tokenTypeIds: new BigInt64Array(2) } }),
        "INPUT_MISMATCH",
        /takes no "token_type_ids"/,
      ],
      [
        "unknown output",
        () => admit(provider, { texts: ["a"], truncate: true, outputs: ["pooler"] }),
        "INPUT_MISMATCH",
        /no output "pooler"/,
      ],
    ];
    for (const [name, run, code, message] of cases) {
      const err = thrown(run);
      expect(err.code, name).toBe(code);
      expect(err.message, name).toMatch(message);
    }
    expect(provider.open.get("v1")).toBe(0);
    const admitted = admit(provider, { texts: ["one three"], truncate: true });
    expect(admitted.model.version).toBe("v1");
    expect([...admitted.tokens.inputIds]).toEqual([3n, 5n]);
    expect(provider.open.get("v1")).toBe(1);
    admitted.release();
    admitted.release();
    expect(provider.open.get("v1")).toBe(0);
  });
});

describe("createBatcher with admitted requests", () => {
  it("never merges requests of two versions, runs each on the version that tokenized it, and ends each lease with its answer", async () => {
    const v1 = versionDouble("v1", 0);
    const v2 = versionDouble("v2", 50);
    const provider = switchable(v1);
    const reports: BatchReport[] = [];
    const batcher = createBatcher({ maxQueueDelayMs: 50, maxQueue: 64, onBatch: (r) => reports.push(r) });
    const text = "breaking news today";
    // Admissions alternate between the versions, as they would around a hot swap, and queue together.
    const pending = Array.from({ length: 12 }, (_, i) => {
      provider.serving = i % 2 === 0 ? v1 : v2;
      return batcher.infer(admit(provider, { texts: [text], truncate: true }));
    });
    expect(provider.open.get("v1")).toBe(6);
    expect(provider.open.get("v2")).toBe(6);
    const results = await Promise.all(pending);
    for (const [i, result] of results.entries()) {
      const version = i % 2 === 0 ? "v1" : "v2";
      const ids = result.outputs.find((o) => o.name === "ids")!.data as BigInt64Array;
      expect(result.evidence.version).toBe(version);
      expect(result.outputs.find((o) => o.name === "version")!.data).toEqual([version]);
      expect([...ids]).toEqual([...(version === "v1" ? v1 : v2).tokenize([text], { truncate: true }).inputIds]);
    }
    // Merged, but only with their own version's requests.
    expect(reports.some((r) => r.requests > 1)).toBe(true);
    expect(reports.reduce((n, r) => n + r.requests, 0)).toBe(12);
    expect(provider.open.get("v1")).toBe(0);
    expect(provider.open.get("v2")).toBe(0);
    await batcher.close();
  });

  it("releases the lease of a request it refuses (full queue, closed)", async () => {
    const provider = switchable(versionDouble("v1", 0));
    const batcher = createBatcher({ maxQueueDelayMs: 60_000, maxQueue: 1 });
    const queued = batcher.infer(admit(provider, { texts: ["a"], truncate: true }));
    await expect(batcher.infer(admit(provider, { texts: ["b"], truncate: true }))).rejects.toMatchObject({ code: "OVERLOADED" });
    expect(provider.open.get("v1")).toBe(1);
    await batcher.close();
    await queued;
    await expect(batcher.infer(admit(provider, { texts: ["c"], truncate: true }))).rejects.toMatchObject({ code: "MODEL_CLOSED" });
    expect(provider.open.get("v1")).toBe(0);
  });
});
