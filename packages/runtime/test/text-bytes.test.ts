import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer } from "@trtforge/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { thrown } from "../../../tests/support/errors.js";
import { boundTextBytes, maxTextBytes, openServedModel, type OpenedModel } from "../src/index.js";
import { agNewsTexts, MAX_SEQ, minilmDir, publishVersion } from "./fixtures.js";

const EIGHT_MIB = 8 * 1024 * 1024;

let dir: string;
let model: OpenedModel;
let huge: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-text-bytes-"));
  await publishVersion({ root: join(dir, "store"), agent: "embed", version: "v1" });
  model = await openServedModel({ storeRoot: join(dir, "store"), agent: "embed" });
  // Real news text, repeated to 8 MiB (what the issue sent: a text far over the body's own use).
  const articles = (await agNewsTexts(50)).join(" ");
  huge = articles.repeat(Math.ceil(EIGHT_MIB / articles.length)).slice(0, EIGHT_MIB);
}, 300_000);

afterAll(async () => {
  await model?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("boundTextBytes", () => {
  it("passes texts within the limit unchanged and refuses a longer one by bytes, naming it and the limit", () => {
    expect(boundTextBytes(["short", "é".repeat(50)], 100, false)).toEqual(["short", "é".repeat(50)]);
    // 60 characters of 2 bytes: within 100 characters, over 100 bytes.
    const err = thrown(() => boundTextBytes(["ok", "é".repeat(60)], 100, false));
    expect(err.code).toBe("TEXT_TOO_LONG");
    expect(err.input).toBe("text[1]");
    expect(err.message).toContain("120 UTF-8 bytes");
    expect(err.message).toContain("limit of 100 bytes");
    expect(thrown(() => boundTextBytes([huge], 4096, false)).message).toContain(`more than 4096 UTF-8 bytes`);
  });

  it("with truncation, cuts at whole characters within the limit and at a word boundary where one is near", () => {
    const [cut] = boundTextBytes(["ab€" + "€".repeat(100)], 10, true);
    // "ab" + 2 × 3-byte euro signs = 8 bytes; a third would need 11.
    expect(cut).toBe("ab€€");
    const [words] = boundTextBytes(["alpha beta gamma delta"], 13, true);
    expect(words).toBe("alpha beta");
    const [bigCut] = boundTextBytes([huge], 4096, true);
    expect(Buffer.byteLength(bigCut!)).toBeLessThanOrEqual(4096);
    expect(huge.startsWith(bigCut!)).toBe(true);
  });
});

describe("ServedModel's token bounds", () => {
  it("carries the vocabulary and segment-type sizes of the version's config.json, for the server's range checks", () => {
    expect(model.vocabSize).toBe(30522);
    expect(model.typeVocabSize).toBe(2);
  });
});

describe("ServedModel.tokenize on a huge text", () => {
  it("refuses an 8 MiB text by its bytes (naming the text and the byte limit) without truncate", () => {
    const err = thrown(() => model.tokenize(["A short headline.", huge], { truncate: false }));
    expect(err.code).toBe("TEXT_TOO_LONG");
    expect(err.input).toBe("text[1]");
    expect(err.message).toContain(`limit of ${maxTextBytes(model.profile)} bytes`);
  });

  it("with truncate, gives the same first tokens as the tokenizer truncating the whole text", async () => {
    const tokens = model.tokenize(["A short headline.", huge], { truncate: true });
    expect(tokens.rows).toBe(2);
    expect(tokens.seqLen).toBe(MAX_SEQ);
    // The reference: the model's tokenizer over the first 100,000 characters (already thousands of
    // tokens, so its first MAX_SEQ are the whole text's), truncated by the tokenizer itself.
    const tokenizer = await loadTokenizer(minilmDir());
    const reference = tokenizer.encodeBatch([huge.slice(0, 100_000)], { maxLength: MAX_SEQ, padding: "longest", truncation: true });
    expect(reference.seqLen).toBe(MAX_SEQ);
    expect(Array.from(tokens.inputIds.subarray(MAX_SEQ, 2 * MAX_SEQ))).toEqual(Array.from(reference.inputIds));
  });
});
