import { mkdir, readdir, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { gc, listVersions, publish, stageVersion } from "../src/index.js";
import { withAgentLock } from "../src/lock.js";
import { AgentPaths } from "../src/paths.js";
import { currentProcessIdentity } from "@trtforge/fs-kit";
import { storeSettings } from "../src/settings.js";
import { deadPid, storeAndSource, writeTree } from "./helpers.js";

/** A staging folder as a crashed writer of this store leaves it: half the files and its writer record. */
async function crashedStaging(root: string, version: string, writer: Record<string, unknown>) {
  const dir = join(root, "a", "versions", `${version}.tmp`);
  await writeTree(dir, { "part-1.bin": "half a model" });
  const staging = { token: "0123456789abcdef", writer, started_at: new Date().toISOString() };
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ version, checksum: "", metadata: { staging } }));
  return dir;
}

async function published() {
  const { root, source } = await storeAndSource();
  await publish({ root, agent: "a", version: "v1", sourceDir: source });
  return { root, source, versionsDir: join(root, "a", "versions") };
}

describe("stale staging", () => {
  it("is detected when its writer is dead, and removed by the next writer", async () => {
    const { root, source, versionsDir } = await published();
    await crashedStaging(root, "v2", { pid: await deadPid(), hostname: hostname() });
    const [state] = (await listVersions({ root, agent: "a" })).staging;
    expect(state).toMatchObject({ name: "v2.tmp", stale: true, liveness: "dead", reason: expect.stringContaining("is gone") });
    const result = await publish({ root, agent: "a", version: "v3", sourceDir: source });
    expect(result.cleanedStaging).toEqual(["v2.tmp"]);
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v3"]);
  });

  it("treats a reused pid (same pid, other start time) as dead", async () => {
    const { root } = await published();
    const me = currentProcessIdentity();
    if (me.start_ticks === undefined) return; // no /proc: start times unknown
    await crashedStaging(root, "v2", { ...me, start_ticks: me.start_ticks + 1 });
    expect((await listVersions({ root, agent: "a" })).staging[0]).toMatchObject({ stale: true, liveness: "dead" });
  });

  it("keeps a live writer's staging, and also takes it once its heartbeat is older than the threshold", async () => {
    const { root } = await published();
    const dir = await crashedStaging(root, "v2", currentProcessIdentity());
    expect((await listVersions({ root, agent: "a" })).staging[0]).toMatchObject({ stale: false, liveness: "alive" });
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, "manifest.json"), old, old);
    expect((await listVersions({ root, agent: "a", stagingStaleMs: 60_000 })).staging[0]).toMatchObject({
      stale: true,
      reason: expect.stringContaining("no activity"),
    });
  });

  it("cannot tell a writer on another host is alive, so goes by its heartbeat", async () => {
    const { root } = await published();
    await crashedStaging(root, "v2", { pid: 1, hostname: "elsewhere.example" });
    expect((await listVersions({ root, agent: "a" })).staging[0]).toMatchObject({ stale: false, liveness: "unknown" });
  });

  it("treats record-less staging (JustNewsAgent's stage_new) as stale only when untouched past the threshold", async () => {
    const { root, versionsDir } = await published();
    const dir = join(versionsDir, "v2.tmp");
    await writeTree(dir, { "w.bin": "x" });
    expect((await listVersions({ root, agent: "a" })).staging[0]).toMatchObject({ stale: false, liveness: "no record" });
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, "w.bin"), old, old);
    await utimes(dir, old, old);
    expect((await listVersions({ root, agent: "a", stagingStaleMs: 60_000 })).staging[0]).toMatchObject({ stale: true });
    const report = await gc({ root, agent: "a", stagingStaleMs: 60_000 });
    expect(report.agents[0]?.staleStaging.map((s) => s.name)).toEqual(["v2.tmp"]);
    expect(await readdir(versionsDir)).toEqual(["v1"]);
  });

  it("gc removes dead writers' staging, trash and a leftover .current.tmp, and leaves live staging alone", async () => {
    const { root, versionsDir } = await published();
    // Staged first: a new writer would otherwise clean the dead staging itself.
    const live = await stageVersion({ root, agent: "a", version: "live" });
    await crashedStaging(root, "dead", { pid: await deadPid(), hostname: hostname() });
    await mkdir(join(root, "a", ".trash", "v0-123-abcd"), { recursive: true });
    await symlink("versions/v1", join(root, "a", ".current.tmp"));
    const report = await gc({ root });
    expect(report.agents[0]).toMatchObject({ trashEntries: 1, removedCurrentTemp: true });
    expect(report.agents[0]?.staleStaging.map((s) => s.name)).toEqual(["dead.tmp"]);
    expect(report.agents[0]?.activeStaging.map((s) => s.name)).toEqual(["live.tmp"]);
    expect((await readdir(versionsDir)).sort()).toEqual(["live.tmp", "v1"]);
    await live.abort();
  });

  it("makes a second publisher of a version being staged wait; it gets STORE_VERSION_EXISTS once the first finishes", async () => {
    const { root, source } = await published();
    const first = await stageVersion({ root, agent: "a", version: "v2" });
    await writeTree(first.dir, { "m.bin": "m" });
    let secondWaits!: () => void;
    const waiting = new Promise<void>((resolve) => (secondWaits = resolve));
    const logger = pino(
      { level: "info" },
      new Writable({
        write: (chunk, _enc, done) => {
          if (String(chunk).includes("waiting: being staged by")) secondWaits();
          done();
        },
      }),
    );
    // The outcome is claimed from the start: the second publisher may settle while the first is
    // still finalizing, and a rejection nobody has claimed yet is an unhandled error.
    const secondOutcome = expect(publish({ root, agent: "a", version: "v2", sourceDir: source, logger })).rejects.toMatchObject({
      code: "STORE_VERSION_EXISTS",
    });
    // Finalize only once the second publisher is known to wait, however slow the machine.
    await Promise.race([waiting, secondOutcome]);
    await first.finalize();
    await secondOutcome;
  });

  it("gives up with STORE_LOCKED when the other writer of the version stays longer than the wait", async () => {
    const { root, source } = await published();
    const first = await stageVersion({ root, agent: "a", version: "v2" });
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: source, lockWaitMs: 300 })).rejects.toMatchObject({
      code: "STORE_LOCKED",
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    // Once the first writer gives up, the name is free again.
    await first.abort();
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: source })).resolves.toMatchObject({ version: "v2" });
  });

  it("refuses to finalize a staging folder another writer took over as stale", async () => {
    const { root, versionsDir } = await published();
    const staged = await stageVersion({ root, agent: "a", version: "v2" });
    await writeTree(staged.dir, { "m.bin": "m" });
    // What a writer that judged us dead would leave: the folder replaced by its own, with its token.
    await crashedStaging(root, "v2", { pid: 1, hostname: "other-host" });
    await expect(staged.finalize()).rejects.toMatchObject({
      code: "STORE_LOCKED",
      message: expect.stringContaining("no longer this process"),
    });
    // Neither published nor removed: the folder is the other writer's now.
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v2.tmp"]);
    await staged.abort();
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v2.tmp"]);
  });
});

describe("agent lock", () => {
  it("makes a writer wait for the holder and give up with STORE_LOCKED naming it", async () => {
    const { root, source } = await published();
    const settings = storeSettings({ root });
    let release!: () => void;
    let acquired!: () => void;
    const holding = new Promise<void>((r) => (acquired = r));
    const held = withAgentLock(new AgentPaths(settings.root, "a"), settings, "test holder", () => {
      acquired();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: source, lockWaitMs: 400 })).rejects.toMatchObject({
      code: "STORE_LOCKED",
      message: expect.stringContaining("test holder"),
    });
    expect((await listVersions({ root, agent: "a" })).staging).toEqual([]);
    release();
    await held;
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: source })).resolves.toMatchObject({ version: "v2" });
  });

  it("breaks a lock left by a crashed holder once it is stale", async () => {
    const { root, source } = await published();
    const lockDir = join(root, "a", ".lock");
    await mkdir(lockDir);
    const old = new Date(Date.now() - 60_000);
    await utimes(lockDir, old, old);
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: source, lockWaitMs: 1_000 })).resolves.toMatchObject({
      version: "v2",
    });
    expect(await readdir(join(root, "a"))).not.toContain(".lock");
  });
});
