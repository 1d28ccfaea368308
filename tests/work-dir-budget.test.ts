import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@trtforge/core";
import { writerTag } from "@trtforge/model-store";
import { applyWorkBudget, DEFAULT_WORK_BUDGET, holdStage, listFinishedStages, workBudgetFromEnv } from "@trtforge/pipeline";
import { runCli } from "./cli-helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-budget-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-07T12:00:00Z");

/** A finished stage as runStage leaves it: a data file and stage.json, last used `daysAgo` before NOW. */
async function stage(work: string, name: string, key: string, kib: number, daysAgo: number): Promise<string> {
  const path = join(work, name, key);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, "model.onnx"), Buffer.alloc(kib * 1024, 1));
  await writeFile(join(path, "stage.json"), "{}\n");
  const when = new Date(NOW - daysAgo * DAY);
  await utimes(join(path, "stage.json"), when, when);
  return path;
}

/** A work dir with four finished stages of 100 KiB, used 40, 20, 10 and 1 days ago, and one unfinished and one temp folder. */
async function workDir(name: string): Promise<string> {
  const work = join(dir, name);
  await stage(work, "export", "aaa", 100, 40);
  await stage(work, "int8", "bbb", 100, 20);
  await stage(work, "export", "ccc", 100, 10);
  await stage(work, "int8", "ddd", 100, 1);
  await mkdir(join(work, "export", "unfinished"), { recursive: true });
  await mkdir(join(work, "int8", `.eee.tmp-${writerTag()}-Ab12Cd`), { recursive: true });
  return work;
}

async function deadTag(): Promise<string> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return writerTag().replace(/^w\d+-(\d+|x)-/, `w${child.pid}-x-`);
}

const remaining = async (work: string) => (await listFinishedStages(work)).map((s) => `${s.stage}/${s.key}`);

describe("the work dir budget (build-engine gc --max-size/--max-age, and the default work dir)", () => {
  it("removes least recently used finished stages until the size fits, leaving unfinished and temp folders alone", async () => {
    const work = await workDir("size");
    expect(await remaining(work)).toEqual(["export/aaa", "int8/bbb", "export/ccc", "int8/ddd"]);
    const report = await applyWorkBudget(work, { maxBytes: 250 * 1024 }, silentLogger(), { now: NOW });
    expect(report.removed.map((r) => `${r.stage}/${r.key}`)).toEqual(["export/aaa", "int8/bbb"]);
    expect(report.removed[0]!.reason).toContain("least recently used");
    expect(report.bytesAfter).toBeLessThanOrEqual(250 * 1024);
    expect(await remaining(work)).toEqual(["export/ccc", "int8/ddd"]);
    expect(existsSync(join(work, "export", "unfinished"))).toBe(true);
    expect((await readdir(join(work, "int8"))).sort()).toEqual([`.eee.tmp-${writerTag()}-Ab12Cd`, "ddd"]);
  });

  it("removes stages unused for longer than the age budget", async () => {
    const work = await workDir("age");
    const report = await applyWorkBudget(work, { maxAgeMs: 15 * DAY }, silentLogger(), { now: NOW });
    expect(report.removed.map((r) => r.key)).toEqual(["aaa", "bbb"]);
    expect(report.removed[0]!.reason).toMatch(/^unused for 40 d/);
    expect(await remaining(work)).toEqual(["export/ccc", "int8/ddd"]);
  });

  it("never removes a stage a running build holds; a dead build's hold counts for nothing and is cleaned", async () => {
    const work = await workDir("held");
    // This process holds aaa (as a running build does, through runStage); a gone one held bbb.
    await holdStage(work, "export", "aaa");
    await utimes(join(work, "export", "aaa", "stage.json"), new Date(NOW - 40 * DAY), new Date(NOW - 40 * DAY));
    const dead = `int8--bbb--${await deadTag()}`;
    await writeFile(join(work, "holds", dead), "");
    const report = await applyWorkBudget(work, { maxBytes: 0 }, silentLogger(), { now: NOW });
    expect(report.heldBack.map((h) => h.key)).toEqual(["aaa"]);
    expect(report.removed.map((r) => r.key)).toEqual(["bbb", "ccc", "ddd"]);
    expect(await remaining(work)).toEqual(["export/aaa"]);
    expect(await readdir(join(work, "holds"))).not.toContain(dead);
  });

  it("holding a stage marks it used now (the LRU clock)", async () => {
    const work = await workDir("touch");
    await holdStage(work, "export", "aaa");
    const byKey = Object.fromEntries((await listFinishedStages(work)).map((s) => [s.key, Date.parse(s.lastUsed)]));
    expect(byKey.aaa).toBeGreaterThan(NOW - DAY);
    expect((await remaining(work)).at(-1)).toBe("export/aaa");
  });

  it("build-engine gc takes --max-size and --max-age, reports, and a dry run removes nothing", async () => {
    const work = await workDir("cli");
    const dry = runCli("build-engine", ["gc", "--work-dir", work, "--max-size", "150KiB", "--dry-run", "--json"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect((dry.json().budget as { removed: { key: string }[] }).removed.map((r) => r.key)).toEqual(["aaa", "bbb", "ccc"]);
    expect(await remaining(work)).toHaveLength(4);
    const run = runCli("build-engine", ["gc", "--work-dir", work, "--max-size", "150KiB"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`removed ${join(work, "export", "aaa")}: work dir at`);
    expect(await remaining(work)).toEqual(["int8/ddd"]);
  });

  it("refuses a malformed budget before removing anything", async () => {
    const work = await workDir("bad");
    for (const args of [
      ["--max-size", "5 parsecs"],
      ["--max-age", "forever"],
    ]) {
      const run = runCli("build-engine", ["gc", "--work-dir", work, ...args]);
      expect(run.status, run.stderr).toBe(14);
      expect(run.stderr).toContain(`error[INVALID_OPTION]: ${args[0]} "${args[1]}"`);
    }
    expect(await remaining(work)).toHaveLength(4);
  });

  it("the default work dir has a default budget; TRTFORGE_WORK_BUDGET changes or disables it", () => {
    expect(workBudgetFromEnv({})).toEqual(DEFAULT_WORK_BUDGET);
    expect(DEFAULT_WORK_BUDGET).toEqual({ maxBytes: 10 * 1024 ** 3, maxAgeMs: 30 * DAY });
    expect(workBudgetFromEnv({ TRTFORGE_WORK_BUDGET: "off" })).toBeUndefined();
    expect(workBudgetFromEnv({ TRTFORGE_WORK_BUDGET: "20GiB,14d" })).toEqual({ maxBytes: 20 * 1024 ** 3, maxAgeMs: 14 * DAY });
    expect(workBudgetFromEnv({ TRTFORGE_WORK_BUDGET: "500MiB" })).toEqual({ maxBytes: 500 * 1024 ** 2 });
    expect(() => workBudgetFromEnv({ TRTFORGE_WORK_BUDGET: "lots" })).toThrow(/TRTFORGE_WORK_BUDGET "lots" is not a size/);
  });
});
