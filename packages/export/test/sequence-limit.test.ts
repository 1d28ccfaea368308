import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeError } from "@trtforge/core";
import { assertSequenceLength, modelSequenceLimit } from "../src/index.js";

const MINILM = join(import.meta.dirname, "../../../.tools/models/all-MiniLM-L6-v2");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-seqlimit-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function folder(name: string, config: object, files: Record<string, object> = {}): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, "config.json"), JSON.stringify(config));
  for (const [file, content] of Object.entries(files)) await writeFile(join(path, file), JSON.stringify(content));
  return path;
}

function refusal(requested: number, limit: Awaited<ReturnType<typeof modelSequenceLimit>>, modelDir: string): ForgeError {
  try {
    assertSequenceLength(requested, limit, "--sequence-length", modelDir);
  } catch (err) {
    return err as ForgeError;
  }
  throw new Error(`${requested} was accepted`);
}

describe("modelSequenceLimit", () => {
  it("real all-MiniLM-L6-v2: 512 positions; sentence-transformers' 256 is advice, not the limit", async () => {
    const limit = await modelSequenceLimit(MINILM);
    expect(limit?.max.value).toBe(512);
    expect(limit?.recommended).toEqual({ value: 256, source: "sentence_bert_config.json max_seq_length 256" });
    expect(() => assertSequenceLength(512, limit, "--sequence-length", MINILM)).not.toThrow();
    const err = refusal(8192, limit, MINILM);
    expect(err.code).toBe("SEQUENCE_TOO_LONG");
    expect(err.message).toMatch(/--sequence-length 8192 .* at most 512 tokens/);
    expect(err.fix).toMatch(/--sequence-length 512 or less.*256/);
  });

  it("BERT: max_position_embeddings 512 is the limit; type_vocab_size plays no part", async () => {
    const bert = await folder("bert", { model_type: "bert", max_position_embeddings: 512, type_vocab_size: 2, pad_token_id: 0 });
    const limit = await modelSequenceLimit(bert);
    expect(limit).toEqual({ max: { value: 512, source: "config.json max_position_embeddings 512" } });
    expect(refusal(514, limit, bert).message).toMatch(/at most 512 tokens \(config\.json max_position_embeddings 512\)/);
  });

  it("RoBERTa: a 514-row position table starting after padding_idx 1 leaves 512", async () => {
    const roberta = await folder("roberta", { model_type: "roberta", max_position_embeddings: 514, type_vocab_size: 1, pad_token_id: 1 });
    const limit = await modelSequenceLimit(roberta);
    expect(limit?.max.value).toBe(512);
    expect(limit?.max.source).toMatch(/max_position_embeddings 514 − padding_idx 1 − 1/);
    expect(() => assertSequenceLength(512, limit, "--sequence-length", roberta)).not.toThrow();
    const err = refusal(514, limit, roberta);
    expect(err.code).toBe("SEQUENCE_TOO_LONG");
    expect(err.message).toMatch(/at most 512 tokens/);
    expect(err.details).toMatchObject({ limit: 512 });
  });

  it("the tokenizer's model_max_length bounds too, unless it is transformers' no-limit sentinel", async () => {
    const shorter = await folder(
      "short-tokenizer",
      { model_type: "bert", max_position_embeddings: 512 },
      { "tokenizer_config.json": { model_max_length: 128 } },
    );
    expect((await modelSequenceLimit(shorter))?.max).toEqual({ value: 128, source: "tokenizer_config.json model_max_length 128" });
    const sentinel = await folder(
      "sentinel",
      { model_type: "bert", max_position_embeddings: 512 },
      { "tokenizer_config.json": { model_max_length: 1e30 } },
    );
    expect((await modelSequenceLimit(sentinel))?.max.value).toBe(512);
    const none = await folder("no-limit", { model_type: "gpt-like" }, { "tokenizer_config.json": { model_max_length: 1e30 } });
    expect(await modelSequenceLimit(none)).toBeUndefined();
  });

  it("a config.json with a malformed limit is refused, naming the file", async () => {
    const bad = await folder("bad", { model_type: "bert", max_position_embeddings: "512" });
    await expect(modelSequenceLimit(bad)).rejects.toMatchObject({ code: "CONFIG_INVALID", input: join(bad, "config.json") });
  });
});
