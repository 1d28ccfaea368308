import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runStage } from "../src/stage-dir.js";

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "trtforge-stage-dir-"));
});
afterEach(async () => rm(work, { recursive: true, force: true }));

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("runStage, two builds sharing a work dir", () => {
  it("keeps the result that finished first: the later writer uses it instead of replacing it under its reader", async () => {
    const firstDone = gate();
    const first = runStage(work, "export", "k1", async (temp) => {
      await writeFile(join(temp, "model.onnx"), "first");
      return { by: "first" };
    }).finally(firstDone.open);
    const second = runStage(work, "export", "k1", async (temp) => {
      await firstDone.opened; // the second is still working when the first completes
      await writeFile(join(temp, "model.onnx"), "second");
      return { by: "second" };
    });
    const a = await first;
    const inodeBefore = (await stat(join(a.dir, "model.onnx"))).ino;
    const b = await second;
    expect(a).toMatchObject({ reused: false, summary: { by: "first" } });
    expect(b).toMatchObject({ dir: a.dir, reused: true, summary: { by: "first" } });
    // The first build's files are the very ones it wrote: nothing was removed under it.
    expect((await stat(join(a.dir, "model.onnx"))).ino).toBe(inodeBefore);
    expect(await readFile(join(a.dir, "model.onnx"), "utf8")).toBe("first");
  });

  it("replaces an unfinished folder (no stage.json) of an older run, and reuses a finished one", async () => {
    const stale = join(work, "export", "k2");
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, "partial"), "x");
    const made = await runStage(work, "export", "k2", async (temp) => {
      await writeFile(join(temp, "model.onnx"), "fresh");
      return { n: 1 };
    });
    expect(made.reused).toBe(false);
    await expect(stat(join(made.dir, "partial"))).rejects.toMatchObject({ code: "ENOENT" });
    const again = await runStage(work, "export", "k2", () => Promise.reject(new Error("must not run again")));
    expect(again).toMatchObject({ reused: true, summary: { n: 1 } });
  });

  it("still fails when producing fails and nothing else finished the stage", async () => {
    await expect(runStage(work, "export", "k3", () => Promise.reject(new Error("exporter crashed")))).rejects.toThrow("exporter crashed");
  });
});
