import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";

// build-engine --builder tensorrt-rtx: every stage real, and the build too (TensorRT-RTX needs no
// GPU), so the published version holds a real plan, never a marker.
let dir: string;
let store: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-pipeline-trtrtx-"));
  store = join(dir, "store");
  work = join(dir, "work");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const args = (...extra: string[]) => [
  "--model",
  "store:memory",
  "--store-root",
  store,
  "--work-dir",
  work,
  "--builder",
  "tensorrt-rtx",
  "--calibrate",
  agNewsCsv(),
  "--held-out",
  "32",
  "--max-batch",
  "8",
  "--sequence-length",
  "128",
  "--json",
  ...extra,
];

describe("build-engine --builder tensorrt-rtx (a real NVIDIA build with no GPU)", () => {
  it("imports MiniLM into the ModelStore", () => {
    const run = importMiniLm(store);
    expect(run.status, run.stderr).toBe(0);
  }, 600_000);

  it("refuses --precision int8 before any stage runs (no export made)", () => {
    const run = runCli("build-engine", args("--precision", "int8"));
    expect(run.status, run.stderr).toBe(109);
    expect(run.stderr).toMatch(/does not build --precision int8/);
    expect(existsSync(join(work, "export"))).toBe(false);
  });

  it("publishes a real fp16 TensorRT-RTX engine for 8.6 that verify-engine accepts, and reuses it", async () => {
    const run = runCli("build-engine", args("--precision", "fp16", "--compute-capability", "86"));
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as { kind: string; reused: boolean; versionPath: string; engineName: string };
    expect(result).toMatchObject({ kind: "engine", reused: false });
    expect(result.engineName).toMatch(/-trtrtx-1\.7\.1\.116-fp16\.engine$/);
    expect(await readdir(result.versionPath)).toContain(result.engineName);
    const engine = join(result.versionPath, result.engineName);
    const ok = runCli("verify-engine", [
      engine,
      "--require-real",
      "--runtime-compute-capability",
      "8.6",
      "--runtime-trt-rtx-version",
      "1.7.1.116",
      "--json",
    ]);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.json()).toMatchObject({
      kind: "engine",
      plan_header: { library: "tensorrt-rtx", compute_capabilities: ["8.6"] },
      metadata: { library: "tensorrt-rtx", target_compute_capabilities: ["8.6"], trt_version: "1.7.1.116" },
    });
    // The builder's own report is kept with the version: its warnings (the int64 binding note at least), time and targets.
    const provenance = JSON.parse(await readFile(join(result.versionPath, "provenance.json"), "utf8")) as {
      builder_log: { builder: string; warnings: string[]; build_seconds: number; targets: string[] } | null;
    };
    expect(provenance.builder_log).toMatchObject({ builder: "tensorrt-rtx", targets: ["8.6"] });
    expect(provenance.builder_log!.warnings.length).toBeGreaterThan(0);
    expect(provenance.builder_log!.build_seconds).toBeGreaterThan(0);
    const hopper = runCli("verify-engine", [engine, "--runtime-compute-capability", "9.0", "--json"]);
    expect(hopper.status).toBe(1);
    expect(hopper.stdout).toMatch(/cannot run on compute capability 9\.0/);

    const again = runCli("build-engine", args("--precision", "fp16", "--compute-capability", "86"));
    expect(again.status, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ reused: true, engineName: result.engineName });
  }, 1_200_000);
});
