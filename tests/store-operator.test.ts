import { readFile, readdir, rm, writeFile, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@trtforge/core";
import { createFakeAddon } from "@trtforge/native/fake";
import type { PipelineInput, PipelineResult } from "@trtforge/pipeline";
import { importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";
import { workDirSharingStages } from "./support/shared-work.js";

// Issue 19's operator reproductions on real (fake-addon) builds published into a store.
const AGENT = "trt-embeddings";

let dir: string;
let modelStore: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-operator-"));
  modelStore = join(dir, "models");
  // The CPU-serving stage shared too: pipeline-current and store-operator make the same fp32 builds, so one computes it for both.
  work = await workDirSharingStages(join(dir, "work"), ["export", "cpu-serving"]);
  const run = importMiniLm(modelStore);
  if (run.status !== 0) throw new Error(run.stderr);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** fp32 builds with the fake addon: optimization levels give distinct versions over one export. */
async function build(storeRoot: string, optLevel: number, extra: Partial<PipelineInput> = {}): Promise<PipelineResult> {
  const { runPipeline } = await import("@trtforge/pipeline");
  const { resolveModelFolder } = await import("@trtforge/model-store");
  await mkdir(storeRoot, { recursive: true });
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
    articles: agNewsCsv(),
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

async function engineOf(store: string, version: string): Promise<string> {
  const folder = join(store, AGENT, "versions", version);
  const name = (await readdir(folder)).find((n) => n.endsWith(".engine"));
  return join(folder, name!);
}

describe("verify-engine on a published build (issue 19, item 3)", () => {
  it("fails an edited max_batch_size or seq_len in the sidecar with PROFILE_MISMATCH and SIDECAR_CHANGED, exit 1", async () => {
    const store = join(dir, "store-verify");
    const built = await build(store, 3);
    const engine = await engineOf(store, built.version);
    const sidecar = engine.replace(/\.engine$/, ".json");
    const intact = runCli("verify-engine", [engine, "--json"]);
    expect(intact.status, intact.stdout).toBe(0);
    expect(intact.json()).toMatchObject({ ok: true, problems: [] });

    const original = await readFile(sidecar, "utf8");
    for (const field of ["max_batch_size", "seq_len"] as const) {
      const metadata = JSON.parse(original) as Record<string, unknown>;
      await writeFile(sidecar, JSON.stringify({ ...metadata, [field]: 2 * (metadata[field] as number) }, null, 2) + "\n");
      const edited = runCli("verify-engine", [engine, "--json"]);
      expect(edited.status, edited.stdout).toBe(1);
      const problems = edited.json().problems as { code: string; message: string }[];
      expect(problems.map((p) => p.code).sort()).toEqual(["PROFILE_MISMATCH", "SIDECAR_CHANGED"]);
      expect(problems.find((p) => p.code === "PROFILE_MISMATCH")!.message).toContain(`${field} `);
    }
    await writeFile(sidecar, original);
    expect(runCli("verify-engine", [engine]).status).toBe(0);
  }, 540_000);
});
