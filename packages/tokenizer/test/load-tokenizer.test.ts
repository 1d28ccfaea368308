import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadTokenizer, type EncodedBatch, type ModelTokenizer } from "../src/index.js";
import { packBatch } from "../src/pack-batch.js";
import type { SingleSequenceTemplate } from "../src/sequence-template.js";
import { testModelDir } from "./test-model.js";
import { rejection, thrown } from "../../../tests/support/errors.js";

/** API behaviour that needs no Python: the MiniLM folder and small hand-written tokenizer.json files. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-tokenizer-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const row = (values: BigInt64Array | undefined, seqLen: number, index: number) =>
  Array.from(values!.subarray(index * seqLen, (index + 1) * seqLen), Number);

/** A WordPiece tokenizer.json small enough to read: [UNK]=0 [CLS]=1 [SEP]=2, no pad token. */
function tinyTokenizerJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "[UNK]"), special(1, "[CLS]"), special(2, "[SEP]")],
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: { type: "BertProcessing", sep: ["[SEP]", 2], cls: ["[CLS]", 1] },
    decoder: null,
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, hello: 3, world: 4, "##s": 5, "[PAD]": 6 },
    },
    ...overrides,
  };
}

async function writeModel(files: Record<string, unknown>): Promise<string> {
  const model = join(dir, "model");
  await mkdir(model, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(model, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return model;
}

describe("loadTokenizer on all-MiniLM-L6-v2", () => {
  let tokenizer: ModelTokenizer;
  beforeEach(async () => {
    tokenizer ??= await loadTokenizer(testModelDir());
  });

  it("reads the inputs, pad token and length limit of a BERT tokenizer", () => {
    expect(tokenizer.inputNames).toEqual(["input_ids", "token_type_ids", "attention_mask"]);
    expect(tokenizer.padTokenId).toBe(0);
    expect(tokenizer.modelMaxLength).toBe(512);
  });

  it("lowercases, strips accents and splits CJK characters", () => {
    const batch = tokenizer.encodeBatch(["Café 北京"], { maxLength: 32, padding: "longest", truncation: true });
    // [CLS] cafe 北 京 [SEP]
    expect(row(batch.inputIds, batch.seqLen, 0)).toEqual([101, 7668, 1781, 1755, 102]);
  });

  it("keeps [CLS] and [SEP] when truncating and cuts only the text", () => {
    const text = "The quick brown fox jumps over the lazy dog near the river bank today";
    const whole = tokenizer.encodeBatch([text], { maxLength: 512, padding: "longest", truncation: true });
    const cut = tokenizer.encodeBatch([text], { maxLength: 8, padding: "longest", truncation: true });
    const wholeIds = row(whole.inputIds, whole.seqLen, 0);
    expect(wholeIds.length).toBeGreaterThan(8);
    expect(cut.seqLen).toBe(8);
    expect(row(cut.inputIds, 8, 0)).toEqual([...wholeIds.slice(0, 7), 102]);
  });

  it("pads on the right with the pad id, attention 0 and token type 0", () => {
    const batch = tokenizer.encodeBatch(["hello", "hello world again"], { maxLength: 16, padding: "longest", truncation: true });
    expect(batch).toMatchObject({ batchSize: 2, seqLen: 5 });
    expect(row(batch.inputIds, 5, 0)).toEqual([101, 7592, 102, 0, 0]);
    expect(row(batch.attentionMask, 5, 0)).toEqual([1, 1, 1, 0, 0]);
    expect(row(batch.attentionMask, 5, 1)).toEqual([1, 1, 1, 1, 1]);
    expect(row(batch.tokenTypeIds, 5, 0)).toEqual([0, 0, 0, 0, 0]);
    expect(batch.inputIds).toBeInstanceOf(BigInt64Array);
  });

  it("pads every row to maxLength with padding max_length", () => {
    const batch = tokenizer.encodeBatch(["hello"], { maxLength: 10, padding: "max_length", truncation: true });
    expect(batch.seqLen).toBe(10);
    expect(batch.inputIds).toHaveLength(10);
    expect(row(batch.attentionMask, 10, 0)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("refuses a text longer than max_length padding when truncation is off", () => {
    const err = thrown(() => tokenizer.encodeBatch(["a b c d e f g h"], { maxLength: 4, padding: "max_length", truncation: false }));
    expect(err.code).toBe("INVALID_LIMIT");
    expect(err.fix).toMatch(/truncation/);
  });

  it("leaves long texts whole without truncation when padding to the longest", () => {
    const batch = tokenizer.encodeBatch(["a b c d e f g h"], { maxLength: 4, padding: "longest", truncation: false });
    expect(batch.seqLen).toBe(10);
  });

  it("refuses a maxLength that leaves no room for the special tokens, or is not a positive integer", () => {
    expect(thrown(() => tokenizer.encodeBatch(["hello"], { maxLength: 1, padding: "longest", truncation: true })).code).toBe(
      "INVALID_LIMIT",
    );
    expect(thrown(() => tokenizer.encodeBatch(["hello"], { maxLength: 0, padding: "longest", truncation: true })).code).toBe(
      "INVALID_LIMIT",
    );
    expect(thrown(() => tokenizer.encodeBatch(["hello"], { maxLength: 2.5, padding: "longest", truncation: true })).code).toBe(
      "INVALID_LIMIT",
    );
  });

  it("encodes an empty batch as zero rows", () => {
    const batch = tokenizer.encodeBatch([], { maxLength: 8, padding: "max_length", truncation: true });
    expect(batch).toMatchObject({ batchSize: 0, seqLen: 8 });
    expect(batch.inputIds).toHaveLength(0);
  });
});

describe("loadTokenizer on other folders", () => {
  it("reports a missing tokenizer.json as TOKENIZER_INVALID with how to write one", async () => {
    const model = await writeModel({ "vocab.txt": "[PAD]\n[UNK]\n" });
    const err = await rejection(loadTokenizer(model));
    expect(err.code).toBe("TOKENIZER_INVALID");
    expect(err.input).toBe(join(model, "tokenizer.json"));
    expect(err.fix).toMatch(/save_pretrained/);
  });

  it("reports a folder that does not exist, or a file given as the folder, as a path error", async () => {
    expect((await rejection(loadTokenizer(join(dir, "nowhere")))).code).toBe("FILE_NOT_FOUND");
    await writeFile(join(dir, "file"), "x");
    expect((await rejection(loadTokenizer(join(dir, "file")))).code).toBe("NOT_A_DIRECTORY");
  });

  it("reports malformed JSON with the file", async () => {
    const model = await writeModel({ "tokenizer.json": "{ not json" });
    const err = await rejection(loadTokenizer(model));
    expect(err.code).toBe("JSON_MALFORMED");
    expect(err.input).toBe(join(model, "tokenizer.json"));
  });

  it("reports a model type the library cannot run as TOKENIZER_INVALID", async () => {
    const model = await writeModel({ "tokenizer.json": tinyTokenizerJson({ model: { type: "Mystery" } }) });
    const err = await rejection(loadTokenizer(model));
    expect(err.code).toBe("TOKENIZER_INVALID");
    expect(err.message).toMatch(/Mystery/);
  });

  it("refuses pre-tokenizer settings the library would apply differently from Hugging Face", async () => {
    const pre = { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Punctuation", behavior: "Isolated" }] };
    const model = await writeModel({ "tokenizer.json": tinyTokenizerJson({ pre_tokenizer: pre }) });
    const err = await rejection(loadTokenizer(model));
    expect(err.code).toBe("TOKENIZER_INVALID");
    expect(err.message).toMatch(/Punctuation pre-tokenizer with behavior Isolated/);
  });

  it("has no pad id without a pad token, encodes one text, and refuses to pad a batch", async () => {
    const tokenizer = await loadTokenizer(await writeModel({ "tokenizer.json": tinyTokenizerJson() }));
    expect(tokenizer.padTokenId).toBeUndefined();
    expect(tokenizer.modelMaxLength).toBeUndefined();
    const one = tokenizer.encodeBatch(["Hello worlds"], { maxLength: 8, padding: "longest", truncation: true });
    expect(row(one.inputIds, one.seqLen, 0)).toEqual([1, 3, 4, 5, 2]);
    const err = thrown(() => tokenizer.encodeBatch(["hello", "hello world"], { maxLength: 8, padding: "longest", truncation: true }));
    expect(err.code).toBe("TOKENIZER_INVALID");
    expect(err.fix).toMatch(/pad_token/);
  });

  it("takes the pad token from special_tokens_map.json and the limit from tokenizer_config.json", async () => {
    const model = await writeModel({
      "tokenizer.json": tinyTokenizerJson(),
      "tokenizer_config.json": { model_max_length: 128 },
      "special_tokens_map.json": { pad_token: { content: "[PAD]", lstrip: false } },
    });
    const tokenizer = await loadTokenizer(model);
    expect(tokenizer.padTokenId).toBe(6);
    expect(tokenizer.modelMaxLength).toBe(128);
    const batch = tokenizer.encodeBatch(["hello", "hello world"], { maxLength: 8, padding: "longest", truncation: true });
    expect(row(batch.inputIds, batch.seqLen, 0)).toEqual([1, 3, 2, 6]);
  });

  it("reads transformers' no-limit sentinel as no limit", async () => {
    const model = await writeModel({ "tokenizer.json": tinyTokenizerJson(), "tokenizer_config.json": { model_max_length: 1e30 } });
    expect((await loadTokenizer(model)).modelMaxLength).toBeUndefined();
  });

  it("refuses a pad token that is not in the vocabulary", async () => {
    const model = await writeModel({ "tokenizer.json": tinyTokenizerJson(), "tokenizer_config.json": { pad_token: "<nope>" } });
    expect((await rejection(loadTokenizer(model))).code).toBe("TOKENIZER_INVALID");
  });

  it("follows model_input_names when stated, else whether the post-processor emits type ids", async () => {
    const stated = await writeModel({
      "tokenizer.json": tinyTokenizerJson(),
      "tokenizer_config.json": { model_input_names: ["input_ids", "attention_mask"] },
    });
    const withoutTypes = await loadTokenizer(stated);
    expect(withoutTypes.inputNames).toEqual(["input_ids", "attention_mask"]);
    expect(withoutTypes.encodeBatch(["hello"], { maxLength: 8, padding: "longest", truncation: true }).tokenTypeIds).toBeUndefined();

    await rm(join(dir, "model"), { recursive: true });
    const roberta = { type: "RobertaProcessing", sep: ["[SEP]", 2], cls: ["[CLS]", 1], trim_offsets: true, add_prefix_space: false };
    expect(
      (await loadTokenizer(await writeModel({ "tokenizer.json": tinyTokenizerJson({ post_processor: roberta }) }))).inputNames,
    ).toEqual(["input_ids", "attention_mask"]);

    await rm(join(dir, "model"), { recursive: true });
    const bert = await loadTokenizer(await writeModel({ "tokenizer.json": tinyTokenizerJson() }));
    expect(bert.inputNames).toEqual(["input_ids", "token_type_ids", "attention_mask"]);
  });

  it("refuses model_input_names a tokenizer cannot produce", async () => {
    const model = await writeModel({
      "tokenizer.json": tinyTokenizerJson(),
      "tokenizer_config.json": { model_input_names: ["input_ids", "pixel_values"] },
    });
    const err = await rejection(loadTokenizer(model));
    expect(err.code).toBe("TOKENIZER_INVALID");
    expect(err.message).toMatch(/pixel_values/);
  });
});

describe("packBatch", () => {
  const template: SingleSequenceTemplate = {
    prefixIds: [7],
    prefixTypeIds: [0],
    contentTypeId: 1,
    suffixIds: [8, 9],
    suffixTypeIds: [1, 1],
  };
  const pack = (contents: number[][], maxLength: number, padding: "longest" | "max_length", truncation: boolean): EncodedBatch =>
    packBatch(contents, { maxLength, padding, truncation }, { template, padTokenId: 5, withTokenTypeIds: true });

  it("wraps each text in the template's tokens and type ids, padding with the pad id and type 0", () => {
    const batch = pack([[20, 21], [22]], 10, "longest", true);
    expect(batch.seqLen).toBe(5);
    expect(row(batch.inputIds, 5, 0)).toEqual([7, 20, 21, 8, 9]);
    expect(row(batch.inputIds, 5, 1)).toEqual([7, 22, 8, 9, 5]);
    expect(row(batch.tokenTypeIds, 5, 1)).toEqual([0, 1, 1, 1, 0]);
    expect(row(batch.attentionMask, 5, 1)).toEqual([1, 1, 1, 1, 0]);
  });

  it("cuts the text, never the template, to maxLength", () => {
    const batch = pack([[20, 21, 22, 23, 24]], 5, "longest", true);
    expect(row(batch.inputIds, 5, 0)).toEqual([7, 20, 21, 8, 9]);
    // Exactly the special tokens: the text is cut away entirely.
    expect(row(pack([[20]], 3, "longest", true).inputIds, 3, 0)).toEqual([7, 8, 9]);
    expect(thrown(() => pack([[20]], 2, "longest", true)).code).toBe("INVALID_LIMIT");
  });
});
