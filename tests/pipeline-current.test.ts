import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@trtforge/core";
import { createFakeAddon } from "@trtforge/native/fake";
import type { PipelineInput, PipelineResult } from "@trtforge/pipeline";
import { ROOT, importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";
import { workDirSharingStages } from "./support/shared-work.js";

const AG_NEWS = agNewsCsv();
const AGENT = "trt-embeddings";

let dir: string;
let modelStore: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-current-"));
  modelStore = join(dir, "models");
  // The CPU-serving stage shared too: pipeline-current and store-operator make the same fp32 builds, so one computes it for both.
  work = await workDirSharingStages(join(dir, "work"), ["export", "cpu-serving"]);
  const run = importMiniLm(modelStore);
  if (run.status !== 0) throw new Error(run.stderr);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** fp32 builds with the fake addon (no calibration): optimization levels give distinct build keys over one export. */
async function build(storeRoot: string, optLevel: number, extra: Partial<PipelineInput> = {}): Promise<PipelineResult> {
  const { runPipeline } = await import("@trtforge/pipeline");
  const { resolveModelFolder } = await import("@trtforge/model-store");
  // build-engine refuses a store root that does not exist (it is checked before any work).
  await mkdir(storeRoot, { recursive: true });
  // The model comes from its own store (as a folder); builds publish into the store under test.
  const model = (await resolveModelFolder({ agent: "memory", root: modelStore, strict: true }))!;
  const addon = createFakeAddon({ trtMajor: 10 });
  return runPipeline({
    model: model.folder,
    modelId: model.modelId,
    revision: model.revision,
    storeRoot,
    hfTask: "auto",
    precision: "fp32",
    typing: "strong",
    trtVersion: "10.16.0",
    maxBatch: 16,
    optBatch: 8,
    minSequenceLength: 1,
    optSequenceLength: 64,
    sequenceLength: 128,
    workspaceMiB: 2048,
    optLevel,
    hardwareCompatibility: "none",
    versionCompatible: false,
    articles: AG_NEWS,
    calibrationSamples: 16,
    heldOut: 16,
    calibrationBatch: 16,
    calibrationAlgorithm: "max",
    seed: 0,
    opset: 17,
    marker: false,
    workRoot: work,
    logger: silentLogger(),
    addon: { available: true, trtMajor: addon.trtMajor, path: "fake", binding: addon },
    ...extra,
  });
}

/** A stage temp folder named by a process that has exited: what a SIGKILLed run leaves. */
function tempOfDeadRun(stageDir: string): string {
  const library = join(ROOT, "packages/model-store/dist/index.js");
  const script = `import(${JSON.stringify(library)}).then(async (m) => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const path = ${JSON.stringify(stageDir)} + "/.0123456789ab.tmp-" + m.writerTag() + "-Ab12Cd";
    mkdirSync(path, { recursive: true });
    writeFileSync(path + "/model.onnx", "partial");
    process.stdout.write(path);
  });`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout;
}

describe("current is the version the operator chose to serve", () => {
  it("moves on the first build, on --promote (fresh or reused) and on model-store promote, and nowhere else", async () => {
    const store = join(dir, "store-a");
    const a = await build(store, 3);
    expect(a).toMatchObject({ reused: false, current: { change: "first", version: a.version } });

    const b = await build(store, 2);
    expect(b.version).not.toBe(a.version);
    expect(b).toMatchObject({ reused: false, current: { change: "unchanged", version: a.version } });

    const bAgain = await build(store, 2, { promote: true, promoteEvidence: { withoutEvidence: true } });
    expect(bAgain).toMatchObject({ reused: true, version: b.version, current: { change: "promoted", version: b.version } });

    const stale = tempOfDeadRun(join(work, "export"));
    const aAgain = await build(store, 3);
    // The next run removed the dead run's stage folder before starting.
    expect(existsSync(stale)).toBe(false);
    expect(aAgain).toMatchObject({ reused: true, version: a.version, current: { change: "unchanged", version: b.version } });

    const aPromoted = await build(store, 3, { promote: true, promoteEvidence: { withoutEvidence: true } });
    expect(aPromoted).toMatchObject({ reused: true, current: { change: "promoted", version: a.version } });

    const back = runCli("model-store", ["promote", AGENT, b.version, "--root", store, "--without-evidence", "--json"]);
    expect(back.status, back.stderr).toBe(0);
    expect(back.json()).toMatchObject({ change: "promoted", previous: a.version, current: b.version, verification: { ok: true } });
    const none = runCli("model-store", ["promote", AGENT, "build-nonexistent", "--root", store]);
    expect(none.status).toBe(62);
  }, 300_000);

  it("list and show print kind, precision, shapes, TensorRT version and which version is current", async () => {
    const store = join(dir, "store-a");
    const list = runCli("model-store", ["list", "--agent", AGENT, "--root", store, "--json"]);
    expect(list.status, list.stderr).toBe(0);
    const versions = (list.json() as { versions: { isCurrent: boolean; build: unknown; createdAt: string }[] }).versions;
    expect(versions).toHaveLength(2);
    for (const v of versions) {
      expect(v.build).toEqual({
        kind: "engine",
        precision: "fp32",
        trtVersion: "10.16.0.72",
        shapes: { min: [1, 1], opt: [8, 64], max: [16, 128] },
        // fp32 has no precision form to judge; the CPU-serving int8 form passed its gate.
        accuracyGate: { verdict: "passed", failed: [] },
      });
    }
    expect(versions.filter((v) => v.isCurrent)).toHaveLength(1);
    const text = runCli("model-store", ["list", "--agent", AGENT, "--root", store]);
    expect(text.stdout).toMatch(/^\* build-\S+\t\S+\tok\tengine fp32 1x1\.\.8x64\.\.16x128 TensorRT 10\.16\.0\.72/m);
    const show = runCli("model-store", ["show", "--agent", AGENT, "--root", store]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/\(current\)/);
    expect(show.stdout).toContain("  build: engine fp32 1x1..8x64..16x128 TensorRT 10.16.0.72");
    expect(show.stdout).toContain("  accuracy: passed every accuracy gate");
  });

  it("a finalized version current never named (promotion interrupted) is a legitimate state: show works, a rerun makes it current", async () => {
    const store = join(dir, "store-b");
    const a = await build(store, 3);
    // What a kill between finalize and the switch leaves: the version, no current.
    await rm(join(store, AGENT, "current"));
    const show = runCli("model-store", ["show", "--agent", AGENT, "--root", store, "--json"]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.json()).toMatchObject({ version: a.version, isCurrent: false, currentVersion: "none" });
    const again = await build(store, 3);
    expect(again).toMatchObject({ reused: true, version: a.version, current: { change: "first", version: a.version } });
    expect(existsSync(join(store, AGENT, "current"))).toBe(true);
  }, 300_000);

  it("two identical builds racing on one store: the loser reuses the winner's version", async () => {
    const store = join(dir, "store-c");
    // Separate work dirs (copies holding the stages done above), so the runs meet only at publishing.
    await cp(work, join(dir, "work-1"), { recursive: true });
    await cp(work, join(dir, "work-2"), { recursive: true });
    const [one, two] = await Promise.all([
      build(store, 1, { workRoot: join(dir, "work-1") }),
      build(store, 1, { workRoot: join(dir, "work-2") }),
    ]);
    expect(one.version).toBe(two.version);
    expect([one.reused, two.reused].sort()).toEqual([false, true]);
    expect([one.current.change, two.current.change].sort()).toEqual(["first", "unchanged"]);
    expect(await readdir(join(store, AGENT, "versions"))).toEqual([one.version]);
  }, 300_000);

  it("two identical builds sharing a work dir: the second waits for the first and reuses its stages and version", async () => {
    const store = join(dir, "store-d");
    // A fresh export (what the test looks at); the CPU-serving stage is the shared one.
    const shared = await workDirSharingStages(join(dir, "work-shared"), ["cpu-serving"]);
    const [one, two] = await Promise.all([build(store, 1, { workRoot: shared }), build(store, 1, { workRoot: shared })]);
    expect(one.version).toBe(two.version);
    expect([one.reused, two.reused].sort()).toEqual([false, true]);
    // Only one of them exported; the other found the export done.
    expect([one.stages.export.reused, two.stages.export.reused].sort()).toEqual([false, true]);
  }, 300_000);
});
