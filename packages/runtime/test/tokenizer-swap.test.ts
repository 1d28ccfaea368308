import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admit, createBatcher, openModelSlot, openServedModel, type OutputTensor, type ServedModel } from "../src/index.js";
import { agNewsTexts, fakeAddon, fakePlan, minilmDir, publishVersion, until } from "./fixtures.js";

let dir: string;
let root: string;
let texts: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-tokenizer-swap-"));
  root = join(dir, "store");
  // Real AG News titles and descriptions: capitalized words, which a cased tokenizer splits otherwise.
  texts = await agNewsTexts(12, 900);
}, 120_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Both outputs of one text alone on one version: the answer a response naming that version must carry. */
async function answerOf(model: ServedModel, text: string): Promise<OutputTensor[]> {
  return model.run(model.tokenize([text], { truncate: true }));
}

function sameTensors(a: readonly OutputTensor[], b: readonly OutputTensor[]): boolean {
  return a.every((tensor, i) => {
    const other = b[i]!;
    if (tensor.name !== other.name || tensor.shape.join() !== other.shape.join()) return false;
    return tensor.data.every((x: unknown, k: number) => x === other.data[k]);
  });
}

describe("admission across a hot swap to a version with another tokenizer", () => {
  it("runs every request on the version that tokenized it, under concurrent load, and disposes the old version once its last lease ends", async () => {
    const plan = await fakePlan();
    // v1: MiniLM's own lowercasing tokenizer; v2: the same vocabulary without lowercasing (cased).
    // The fake engine echoes input ids into last_hidden_state, so a response shows which tokenizer made its ids.
    const tokenizerJson = JSON.parse(await readFile(join(minilmDir(), "tokenizer.json"), "utf8")) as {
      normalizer: { lowercase: boolean };
    };
    tokenizerJson.normalizer.lowercase = false;
    await publishVersion({ root, agent: "news", version: "v1", engine: { kind: "plan", bytes: plan } });
    const addon = fakeAddon();
    // The poll never fires during the test: the swap happens when the test calls checkNow().
    const slot = await openModelSlot({ storeRoot: root, agent: "news" }, { addon, pollMs: 3_600_000 });
    await publishVersion({
      root,
      agent: "news",
      version: "v2",
      engine: { kind: "plan", bytes: plan },
      tokenizerOverrides: { "tokenizer.json": JSON.stringify(tokenizerJson) },
    });

    // The answer each version gives each text alone, from versions opened on their own.
    const expected = new Map<string, OutputTensor[][]>();
    for (const version of ["v1", "v2"]) {
      const alone = await openServedModel({ storeRoot: root, agent: "news", version }, { addon });
      expected.set(version, await Promise.all(texts.map((text) => answerOf(alone, text))));
      await alone.dispose();
    }
    // Every text is tokenized differently by the two versions, so a mix cannot go unseen.
    for (const [i] of texts.entries()) expect(sameTensors(expected.get("v1")![i]!, expected.get("v2")![i]!), `text ${i}`).toBe(false);

    const batcher = createBatcher({ maxQueueDelayMs: 2, maxQueue: 512 });
    // A request admitted by v1 before the swap and only run after it.
    const held = admit(slot, { texts: [texts[0]!], truncate: true });
    const oldModel = held.model;
    expect(oldModel.version).toBe("v1");

    const served: { text: number; version: string; outputs: OutputTensor[] }[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const client = async (offset: number) => {
      for (let i = offset; !stop; i++) {
        const text = i % texts.length;
        try {
          const result = await batcher.infer(admit(slot, { texts: [texts[text]!], truncate: true }));
          served.push({ text, version: result.evidence.version, outputs: result.outputs });
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const clients = [0, 3, 5, 7].map(client);
    await until(() => served.length >= 40, 60_000, "responses from v1");
    await slot.checkNow();
    expect(slot.current.version).toBe("v2");
    const afterSwap = served.length;
    await until(() => served.slice(afterSwap).filter((s) => s.version === "v2").length >= 40, 60_000, "responses from v2");
    stop = true;
    await Promise.all(clients);

    // The held request runs on v1 after the swap: its lease kept v1 open.
    const late = await batcher.infer(held);
    expect(late.evidence.version).toBe("v1");
    expect(sameTensors(late.outputs, expected.get("v1")![0]!)).toBe(true);
    // Its answer ended the last lease on v1, which is then disposed.
    await expect
      .poll(
        () =>
          oldModel.run(oldModel.tokenize(["x"], { truncate: true })).then(
            () => "running",
            (e: { code?: string }) => e.code,
          ),
        { timeout: 30_000 },
      )
      .toBe("ENGINE_DISPOSED");

    expect(failures).toEqual([]);
    expect(new Set(served.map((s) => s.version))).toEqual(new Set(["v1", "v2"]));
    const mixed = served.filter((s) => !sameTensors(s.outputs, expected.get(s.version)![s.text]!));
    expect(mixed.map((s) => `text ${s.text} answered as ${s.version}`)).toEqual([]);
    await batcher.close();
    await slot.close();
  }, 300_000);
});
