import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, open, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINILM, runCli } from "./cli-helpers.js";

/**
 * Issue 19 item 4: names, ids and weights are checked before the first stage: a bad one is refused
 * with its flag named, no Python runs and the work dir is never made.
 */
let dir: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-early-"));
  store = join(dir, "store");
  await mkdir(store);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const build = (work: string, ...extra: string[]) =>
  runCli("build-engine", ["--precision", "fp16", "--marker", "--work-dir", work, "--store-root", store, ...extra]);

/** MiniLM's folder with every file linked except model.safetensors, whose first `keep` bytes are copied. */
async function damagedMiniLm(name: string, keep: number): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder);
  for (const file of await readdir(MINILM)) {
    if (file === "model.safetensors") continue;
    await symlink(join(MINILM, file), join(folder, file));
  }
  const source = await open(join(MINILM, "model.safetensors"), "r");
  const target = await open(join(folder, "model.safetensors"), "w");
  try {
    const buffer = Buffer.alloc(keep);
    await source.read(buffer, 0, keep, 0);
    await target.write(buffer);
  } finally {
    await source.close();
    await target.close();
  }
  return folder;
}

describe("build-engine refuses bad names and damaged weights before any stage", () => {
  it("--task-name ../evil: INVALID_NAME (12) naming --task-name, work dir never made", () => {
    const work = join(dir, "work-task");
    const run = build(work, "--model", MINILM, "--model-id", "sentence-transformers/all-MiniLM-L6-v2", "--task-name", "../evil");
    expect(run.status, run.stderr).toBe(12);
    expect(run.stderr).toMatch(/error\[INVALID_NAME\]/);
    expect(run.stderr).toMatch(/fix: /);
    expect(existsSync(work)).toBe(false);
  });

  it("--model-id ../../evil: INVALID_NAME (12), work dir never made", () => {
    const work = join(dir, "work-id");
    const run = build(work, "--model", MINILM, "--model-id", "../../evil");
    expect(run.status, run.stderr).toBe(12);
    expect(run.stderr).toMatch(/invalid Hugging Face model id "\.\.\/\.\.\/evil"/);
    expect(existsSync(work)).toBe(false);
  });

  it("a plain folder without --model-id: INVALID_NAME (12) asking for --model-id, before the export", () => {
    const work = join(dir, "work-noid");
    const run = build(work, "--model", MINILM);
    expect(run.status, run.stderr).toBe(12);
    expect(run.stderr).toMatch(/a plain folder does not name its model/);
    expect(run.stderr).toMatch(/fix: pass --model-id <org\/name>/);
    expect(existsSync(work)).toBe(false);
  });

  it("truncated safetensors in a plain folder: EXPORT_NOT_A_MODEL (80) naming the file, before the exporter", async () => {
    const model = await damagedMiniLm("minilm-truncated", 1_000_000);
    const work = join(dir, "work-weights");
    const run = build(work, "--model", model, "--model-id", "sentence-transformers/all-MiniLM-L6-v2");
    expect(run.status, run.stderr).toBe(80);
    expect(run.stderr).toMatch(
      /the weights file .*model\.safetensors is damaged: its tensors end at byte \d+ of the data block, which has \d+ bytes/,
    );
    expect(existsSync(work)).toBe(false);
  });

  it("a safetensors file cut inside its header: named too", async () => {
    const model = await damagedMiniLm("minilm-header", 100);
    const run = build(join(dir, "work-header"), "--model", model, "--model-id", "sentence-transformers/all-MiniLM-L6-v2");
    expect(run.status, run.stderr).toBe(80);
    expect(run.stderr).toMatch(/model\.safetensors is damaged: its header claims \d+ bytes but the file has 100/);
  });

  it("the intact folder passes the weight check (copied weights, same bytes)", async () => {
    const folder = join(dir, "minilm-copy");
    await mkdir(folder);
    for (const file of await readdir(MINILM)) {
      if (file === "model.safetensors") await copyFile(join(MINILM, file), join(folder, file));
      else await symlink(join(MINILM, file), join(folder, file));
    }
    // The profile check comes after the weight check: reaching it (15) shows the weights passed.
    const run = build(
      join(dir, "work-copy"),
      "--model",
      folder,
      "--model-id",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--sequence-length",
      "8192",
    );
    expect(run.status, run.stderr).toBe(15);
  });
});
