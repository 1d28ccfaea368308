import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ForgeError } from "@trtforge/core";
import { rollback } from "@trtforge/model-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admit, createBatcher, openModelSlot } from "../src/index.js";
import { agNewsTexts, publishVersion, until } from "./fixtures.js";

let dir: string;
let root: string;
let texts: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-slot-"));
  root = join(dir, "store");
  texts = await agNewsTexts(24, 500);
}, 120_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("ModelSlot: hot swap under continuous load", () => {
  it("switches to each new current version with zero failed requests, refuses a damaged or unloadable one, and follows a rollback", async () => {
    await publishVersion({ root, agent: "embed", version: "v1" });
    const swaps: string[] = [];
    const refused: { version: string; error: ForgeError }[] = [];
    const slot = await openModelSlot(
      { storeRoot: root, agent: "embed" },
      {
        pollMs: 50,
        intraOpNumThreads: 1,
        onSwap: (e) => swaps.push(`${e.from}->${e.to}`),
        onSwapRefused: (e) => refused.push({ version: e.version, error: e.error }),
      },
    );
    const batcher = createBatcher({ maxQueueDelayMs: 5, maxQueue: 64 });
    const first = slot.current;

    const served: string[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const client = async (offset: number) => {
      for (let i = offset; !stop; i++) {
        try {
          const result = await batcher.infer(
            admit(slot, { texts: [texts[i % texts.length]!], truncate: true, outputs: ["sentence_embedding"] }),
          );
          expect(result.outputs[0]!.shape).toEqual([1, 384]);
          served.push(result.evidence.version);
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const clients = [client(0), client(7)];
    const servedBy = (version: string) => () => served.includes(version) && served.slice(-3).every((v) => v === version);

    await until(() => served.length >= 5, 60_000, "first responses");
    await publishVersion({ root, agent: "embed", version: "v2" });
    await until(servedBy("v2"), 120_000, "v2 to serve");
    // The old version drained and was disposed after the switch.
    await expect
      .poll(
        () =>
          first.run(first.tokenize(["x"], { truncate: true })).then(
            () => "running",
            (e: ForgeError) => e.code,
          ),
        { timeout: 30_000 },
      )
      .toBe("ENGINE_DISPOSED");

    // v3 is damaged after publishing (current switched to it without verification): refused.
    await publishVersion({ root, agent: "embed", version: "v3", setCurrent: false });
    await writeFile(join(root, "embed", "versions", "v3", "tokenizer", "config.json"), "{}");
    await rollback({ root, agent: "embed", to: "v3", verify: false });
    await until(() => refused.length >= 1, 60_000, "v3 to be refused");
    expect(refused[0]!.version).toBe("v3");
    expect(refused[0]!.error.code).toBe("STORE_CHECKSUM_MISMATCH");
    expect(refused[0]!.error.message).toContain("tokenizer/config.json");

    // v4 verifies but its ONNX cannot be loaded: refused too.
    const bad = join(dir, "not-an-onnx.onnx");
    await writeFile(bad, "this is not an ONNX model");
    await publishVersion({ root, agent: "embed", version: "v4", onnx: { "model.onnx": bad } });
    await until(() => refused.length >= 2, 60_000, "v4 to be refused");
    expect(refused[1]).toMatchObject({ version: "v4", error: { code: "MODEL_UNSERVABLE" } });
    const before = served.length;
    await until(() => served.length > before + 5, 60_000, "v2 to keep serving");
    expect(slot.current.version).toBe("v2");

    // model-store rollback to v1: served again.
    await rollback({ root, agent: "embed", to: "v1" });
    await until(servedBy("v1"), 120_000, "v1 to serve again");

    stop = true;
    await Promise.all(clients);
    await batcher.close();
    await slot.close();
    expect(failures).toEqual([]);
    expect(swaps).toEqual(["v1->v2", "v2->v1"]);
    expect(served).not.toContain("v3");
    expect(served).not.toContain("v4");
    // Responses name the version that served them, in order: v1, then v2, then v1.
    const runs = served.filter((v, i) => i === 0 || served[i - 1] !== v);
    expect(runs).toEqual(["v1", "v2", "v1"]);
    await expect(slot.current.run(slot.current.tokenize(["x"], { truncate: true }))).rejects.toMatchObject({ code: "ENGINE_DISPOSED" });
  }, 600_000);

  it("a pinned @version never moves", async () => {
    await publishVersion({ root, agent: "pinned", version: "a" });
    const slot = await openModelSlot({ storeRoot: root, agent: "pinned", version: "a" }, { pollMs: 20 });
    await publishVersion({ root, agent: "pinned", version: "b" });
    await slot.checkNow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await slot.close();
    expect(slot.current.version).toBe("a");
  }, 300_000);
});
