import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTokenizer } from "@trtforge/tokenizer";
import { fillShape } from "../src/index.js";

const ROOT = join(import.meta.dirname, "../../..");
const texts = readFileSync(join(ROOT, "conf/samples/ag_news_1000.jsonl"), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .slice(0, 40)
  .map((line) => (JSON.parse(line) as { text: string }).text);

describe("fillShape (real articles joined to fill a profile shape)", () => {
  it("gives exactly [batch, seqLen] real tokens, longer than any one article", async () => {
    const tokenizer = await loadTokenizer(join(ROOT, ".tools/models/all-MiniLM-L6-v2"));
    const longest = Math.max(
      ...texts.map((t) => tokenizer.encodeBatch([t], { maxLength: 4096, padding: "longest", truncation: true }).seqLen),
    );
    expect(longest).toBeLessThan(256);
    const batch = fillShape(tokenizer, texts, { name: "max", batch: 6, seqLen: 256 });
    expect([batch.batchSize, batch.seqLen]).toEqual([6, 256]);
    expect(batch.inputIds).toHaveLength(6 * 256);
    expect(batch.attentionMask.every((m) => m === 1n)).toBe(true);
    expect(batch.tokenTypeIds).toHaveLength(6 * 256);
    // Rows start with [CLS] and are not all the same text.
    for (let r = 0; r < 6; r++) expect(batch.inputIds[r * 256]).toBe(101n);
    expect(batch.inputIds.subarray(1, 20)).not.toEqual(batch.inputIds.subarray(257, 276));
  });

  it("a minimum length below the special tokens keeps [CLS] alone", async () => {
    const tokenizer = await loadTokenizer(join(ROOT, ".tools/models/all-MiniLM-L6-v2"));
    const batch = fillShape(tokenizer, texts, { name: "min", batch: 1, seqLen: 1 });
    expect([...batch.inputIds]).toEqual([101n]);
    expect([...batch.attentionMask]).toEqual([1n]);
  });
});
