import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultWorkRoot } from "@trtforge/pipeline";
import { ROOT, importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";

const LIBRARY = join(ROOT, "packages/model-store/dist/index.js");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-workdir-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("the default work dir is a cache location, never the current directory", () => {
  it("honours TRTFORGE_WORK_DIR, then an absolute XDG_CACHE_HOME, then ~/.cache", () => {
    expect(defaultWorkRoot({ TRTFORGE_WORK_DIR: "/srv/trt-work", XDG_CACHE_HOME: "/xdg" })).toBe("/srv/trt-work");
    expect(defaultWorkRoot({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/trtforge");
    expect(defaultWorkRoot({ XDG_CACHE_HOME: "relative/cache" })).toBe(join(homedir(), ".cache", "trtforge"));
    expect(defaultWorkRoot({})).toBe(join(homedir(), ".cache", "trtforge"));
    expect(defaultWorkRoot({}).startsWith(process.cwd())).toBe(false);
  });
});

describe("stage folders of killed runs are removed (build-engine gc, and the next run)", () => {
  it("a SIGKILLed build-engine's temporary export folder is removed by build-engine gc, which says so; live and finished ones stay", async () => {
    const store = join(dir, "store");
    const work = join(dir, "work");
    const imported = importMiniLm(store);
    expect(imported.status, imported.stderr).toBe(0);
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "packages/cli/bin/build-engine.js"),
        "--model",
        "store:memory",
        "--store-root",
        store,
        "--work-dir",
        work,
        "--precision",
        "fp32",
        "--calibrate",
        agNewsCsv(),
        "--marker",
        "--max-batch",
        "4",
        "--sequence-length",
        "64",
        "--opt-sequence-length",
        "32",
      ],
      { detached: true, stdio: "ignore", env: { ...process.env, LOG_LEVEL: "warn" } },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const exportDir = join(work, "export");
    const deadline = Date.now() + 120_000;
    let temps: string[] = [];
    while (temps.length === 0 && Date.now() < deadline) {
      temps = existsSync(exportDir) ? (await readdir(exportDir)).filter((n) => n.includes(".tmp-")) : [];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(temps, "the run never made a temporary export folder").toHaveLength(1);
    process.kill(-child.pid!, "SIGKILL"); // the whole group: the Python exporter too
    await exited;
    expect(await readdir(exportDir)).toEqual(temps);

    const finished = join(work, "export", "finished-key");
    await mkdir(finished, { recursive: true });
    const liveTemp = join(work, "export", `.fedcba987654.tmp-${(await import(LIBRARY)).writerTag()}-Zz99Yy`);
    await mkdir(liveTemp);

    const dry = runCli("build-engine", ["gc", "--work-dir", work, "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would remove ${join(exportDir, temps[0]!)} (its run is gone)`);
    expect(existsSync(join(exportDir, temps[0]!))).toBe(true);

    const gc = runCli("build-engine", ["gc", "--work-dir", work, "--json"]);
    expect(gc.status, gc.stderr).toBe(0);
    expect(gc.json()).toMatchObject({ ok: true, removed: [{ path: join(exportDir, temps[0]!), reason: "its run is gone" }] });
    // The finished stage stays, and so does the folder this (live) test process named.
    expect((await readdir(exportDir)).sort()).toEqual([liveTemp.slice(exportDir.length + 1), "finished-key"].sort());
  }, 180_000);
});
