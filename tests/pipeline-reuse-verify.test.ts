import { appendFile, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";
import { makeTinyClassifier } from "./support/tiny-classifier.js";
import { workDirSharingExports } from "./support/shared-work.js";

/** Issue 19 item 2: an identical build verifies the version it finds before reporting it reused. */
let dir: string;
let model: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-reuse-"));
  model = join(dir, "tiny-news");
  store = join(dir, "store");
  await mkdir(store);
  makeTinyClassifier(model);
  await workDirSharingExports(join(dir, "work"));
}, 300_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

const args = () => [
  "--model",
  model,
  "--model-id",
  "example/tiny-news",
  "--revision",
  "0".repeat(40),
  "--task-name",
  "news",
  "--precision",
  "fp16",
  "--calibrate",
  agNewsCsv(),
  "--calibration-samples",
  "1",
  "--held-out",
  "16",
  "--calibration-batch",
  "8",
  "--max-batch",
  "4",
  "--opt-batch",
  "2",
  "--sequence-length",
  "64",
  "--opt-sequence-length",
  "32",
  "--cpu-serving",
  "off",
  "--marker",
  "--work-dir",
  join(dir, "work"),
  "--store-root",
  store,
  "--json",
];

interface BuildJson {
  reused: boolean;
  version: string;
  versionPath: string;
  replacedDamaged?: { version: string; damage: string };
}

describe("an identical build finds a damaged version in the store", () => {
  let first: BuildJson;
  it("publishes the first build", () => {
    const run = runCli("build-engine", args());
    expect(run.status, run.stderr).toBe(0);
    first = run.json() as unknown as BuildJson;
    expect(first.reused).toBe(false);
  }, 600_000);

  it("reuses it while it matches its manifest", () => {
    const run = runCli("build-engine", args());
    expect(run.status, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ reused: true, version: first.version });
  }, 600_000);

  it("names the damaged file, does not report reused, and publishes a fresh version that verifies", async () => {
    await appendFile(join(first.versionPath, "model.onnx"), "damage");
    const run = runCli("build-engine", args(), { LOG_LEVEL: "info" });
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as unknown as BuildJson;
    expect(result.reused).toBe(false);
    expect(result.version).toBe(`${first.version}-r2`);
    expect(result.replacedDamaged).toMatchObject({ version: first.version });
    expect(result.replacedDamaged!.damage).toMatch(/model\.onnx modified/);
    expect(run.stderr).toMatch(/no longer matches its manifest: model\.onnx modified/);
    expect(runCli("model-store", ["verify", "--root", store, "--agent", "trt-news", "--version", result.version]).status).toBe(0);
    // The damaged version is left for the operator (versions are immutable): still there, still failing verify.
    expect((await readdir(join(store, "trt-news", "versions"))).sort()).toEqual([first.version, result.version].sort());
    expect(runCli("model-store", ["verify", "--root", store, "--agent", "trt-news", "--version", first.version]).status).toBe(66);
  }, 600_000);

  it("the next identical build reuses the fresh version", () => {
    const run = runCli("build-engine", args());
    expect(run.status, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ reused: true, version: `${first.version}-r2` });
  }, 600_000);
});
