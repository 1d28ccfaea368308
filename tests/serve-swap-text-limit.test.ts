import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxTextBytes, openServedModel, type ServedModel } from "@trtforge/runtime";
import { MAX_BATCH, MAX_SEQ, publishVersion } from "../packages/runtime/test/fixtures.js";
import { startServeEngine, type ServeProcess } from "./support/serve-engine.js";

// The front (the supervisor's HTTP process) bounds each text by its model's byte limit before the
// worker sees it, keeping one character past the limit. It learned that limit once, when the worker
// became ready: after a hot swap to a version with a longer profile, texts the new version takes
// were still cut at the old limit, answered as their prefix or, over the new limit, not refused.
const AGENT = "embed";
const SHORT_SEQ = 8;
const SENTENCE = "Stocks rallied on Friday after the central bank held interest rates steady.";
// About 520 bytes and 100 tokens: over the short version's byte limit, within the long one's profile.
const TEXT = Array.from({ length: 7 }, () => SENTENCE).join(" ");

let dir: string;
let store: string;
let server: ServeProcess | undefined;

/** The short version: MiniLM with a sequence maximum of SHORT_SEQ tokens in every input's shapes. */
function shortProfile() {
  const input = (name: string) => ({
    name,
    dtype: "int64" as const,
    min_shape: [1, 1],
    opt_shape: [8, SHORT_SEQ],
    max_shape: [MAX_BATCH, SHORT_SEQ],
  });
  return { seq_len: SHORT_SEQ, inputs: ["input_ids", "attention_mask", "token_type_ids"].map(input) };
}

interface Answer {
  status: number;
  version: string | undefined;
  error: string | undefined;
  embedding: number[] | undefined;
}

async function embed(url: string, text: string): Promise<Answer> {
  const response = await fetch(`${url}/v2/models/${AGENT}/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }],
      outputs: [{ name: "sentence_embedding" }],
    }),
  });
  const json = (await response.json()) as { model_version?: string; error?: string; outputs?: { name: string; data: number[] }[] };
  return { status: response.status, version: json.model_version, error: json.error, embedding: json.outputs?.[0]?.data };
}

async function embeddingAlone(model: ServedModel, text: string): Promise<number[]> {
  const outputs = await model.run(model.tokenize([text], { truncate: false }));
  const embedding = outputs.find((o) => o.name === "sentence_embedding");
  if (embedding?.datatype !== "FP32") throw new Error("the model has no FP32 sentence_embedding");
  return [...embedding.data];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-swap-text-limit-"));
  store = join(dir, "store");
  await publishVersion({ root: store, agent: AGENT, version: "v1", metadataPatch: shortProfile() });
}, 600_000);
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the front's text byte limit across a hot swap", () => {
  it("follows the version serving now: a longer profile's texts pass whole, and its own limit refuses", async () => {
    const shortLimit = maxTextBytes({ sequence: { min: 1, opt: SHORT_SEQ, max: SHORT_SEQ } });
    const longLimit = maxTextBytes({ sequence: { min: 1, opt: 64, max: MAX_SEQ } });
    expect(Buffer.byteLength(TEXT)).toBeGreaterThan(shortLimit);

    server = await startServeEngine(store, ["--cpu-workers", "1"], AGENT);
    const before = await embed(server.url, TEXT);
    expect(before.status).toBe(400);
    expect(before.error).toContain(`limit of ${shortLimit} bytes`);

    await publishVersion({ root: store, agent: AGENT, version: "v2" });
    // The worker polls <agent>/current; a reply from v2 follows its swap notice on the same channel.
    const deadline = Date.now() + 120_000;
    while ((await embed(server.url, SENTENCE)).version !== "v2") {
      if (Date.now() > deadline) throw new Error(`the server never swapped to v2:\n${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const alone = await openServedModel({ storeRoot: store, agent: AGENT, version: "v2" });
    try {
      expect(alone.profile.sequence.max).toBe(MAX_SEQ);
      const expected = await embeddingAlone(alone, TEXT);
      // Cut at the old limit, the text was answered as its first shortLimit bytes.
      expect(expected).not.toEqual(await embeddingAlone(alone, TEXT.slice(0, shortLimit + 1)));
      const after = await embed(server.url, TEXT);
      expect(after).toMatchObject({ status: 200, version: "v2" });
      expect(after.embedding).toHaveLength(expected.length);
      const maxDiff = Math.max(...expected.map((value, i) => Math.abs(value - after.embedding![i]!)));
      expect(maxDiff, "the answer is the whole text's embedding, not a prefix's").toBeLessThan(1e-4);
    } finally {
      await alone.dispose();
    }

    // Over the new limit, without truncation: refused by v2's own limit, not cut to a prefix it takes.
    const tooLong = await embed(server.url, Array.from({ length: Math.ceil(longLimit / SENTENCE.length) + 1 }, () => SENTENCE).join(" "));
    expect(tooLong.status).toBe(400);
    expect(tooLong.error).toContain(`limit of ${longLimit} bytes`);
  }, 600_000);
});
