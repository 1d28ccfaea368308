import { mkdir, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CURRENT_HISTORY_FILE, gc, listAgents, listVersions, promoteVersion, publish, resolveCurrent, rollback } from "../src/index.js";
import { storeAndSource } from "./helpers.js";

async function storeWith(versions: string[]) {
  const { root, source } = await storeAndSource();
  for (const version of versions) {
    await writeFile(join(source, "version.txt"), version);
    await publish({ root, agent: "a", version, sourceDir: source });
  }
  return { root, source, versionsDir: join(root, "a", "versions") };
}

const current = async (root: string) => (await resolveCurrent({ root, agent: "a", strict: true }))?.version;

describe("rollback", () => {
  it("steps back through versions by publication time, not by name", async () => {
    // Names sort the other way round from their publication order on purpose.
    const { root } = await storeWith(["zeta", "beta", "alpha"]);
    expect(await current(root)).toBe("alpha");
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "alpha", to: "beta", verification: { ok: true } });
    expect(await readlink(join(root, "a", "current"))).toBe("versions/beta");
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "beta", to: "zeta" });
    await expect(rollback({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_NO_PREVIOUS_VERSION" });
    expect(await current(root)).toBe("zeta");
  });

  it("switches to a named version, and refuses a damaged one without touching current", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3"]);
    expect(await rollback({ root, agent: "a", to: "v1" })).toMatchObject({ from: "v3", to: "v1" });
    await writeFile(join(versionsDir, "v2", "version.txt"), "tampered");
    await expect(rollback({ root, agent: "a", to: "v2" })).rejects.toMatchObject({
      code: "STORE_CHECKSUM_MISMATCH",
      message: expect.stringContaining("version.txt"),
    });
    expect(await current(root)).toBe("v1");
    await expect(rollback({ root, agent: "a", to: "v9" })).rejects.toMatchObject({ code: "STORE_VERSION_NOT_FOUND" });
    await expect(rollback({ root, agent: "a", to: "v1" })).rejects.toMatchObject({ code: "STORE_ALREADY_CURRENT" });
  });

  it("repairs a dangling current only when told where to go", async () => {
    const { root } = await storeWith(["v1", "v2"]);
    await rm(join(root, "a", "current"));
    await symlink("versions/gone", join(root, "a", "current"));
    await expect(rollback({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_CURRENT_DANGLING" });
    expect(await rollback({ root, agent: "a", to: "v1" })).toMatchObject({ to: "v1" });
  });
});

describe("rollback undoes the last switch of current (current-history.json)", () => {
  it("after promoting the oldest version, returns to the version just replaced, then steps back like an undo", async () => {
    const { root } = await storeWith(["v1", "v2", "v3"]);
    await promoteVersion({ root, agent: "a", version: "v1" });
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v1", to: "v3", basis: "history" });
    expect(await current(root)).toBe("v3");
    // The promote is undone; the publishes before it are next.
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v3", to: "v2", basis: "history" });
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v2", to: "v1", basis: "history" });
    await expect(rollback({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_NO_PREVIOUS_VERSION" });
  });

  it("undoes a rollback --to like any other switch", async () => {
    const { root } = await storeWith(["v1", "v2", "v3"]);
    expect(await rollback({ root, agent: "a", to: "v1" })).toMatchObject({ to: "v1", basis: "named" });
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v1", to: "v3", basis: "history" });
  });

  it("keeps a small history beside current that JustNewsAgent's readers never look at", async () => {
    const { root } = await storeWith(["v1", "v2"]);
    await promoteVersion({ root, agent: "a", version: "v1" });
    const history = JSON.parse(await readFile(join(root, "a", CURRENT_HISTORY_FILE), "utf8")) as {
      format: number;
      switches: { from: string | null; to: string; by: string; at: string }[];
    };
    expect(history.format).toBe(1);
    expect(history.switches.map(({ from, to, by }) => ({ from, to, by }))).toEqual([
      { from: null, to: "v1", by: "publish" },
      { from: "v1", to: "v2", by: "publish" },
      { from: "v2", to: "v1", by: "promote" },
    ]);
    // What JustNewsAgent reads is unchanged: current, versions/, their manifests; no stray agent or version.
    expect(await readlink(join(root, "a", "current"))).toBe("versions/v1");
    expect((await readdir(join(root, "a", "versions"))).sort()).toEqual(["v1", "v2"]);
    expect((await listAgents({ root })).map((a) => a.agent)).toEqual(["a"]);
    expect((await listVersions({ root, agent: "a" })).versions.map((v) => v.version)).toEqual(["v1", "v2"]);
  });

  it("goes by publication time where current was switched without a record (by hand, or by JustNewsAgent)", async () => {
    const { root } = await storeWith(["v1", "v2", "v3"]);
    await promoteVersion({ root, agent: "a", version: "v1" });
    await rm(join(root, "a", "current"));
    await symlink("versions/v2", join(root, "a", "current"));
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v2", to: "v1", basis: "publication" });
  });

  it("skips a recorded version that was removed since, and ignores a damaged history", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3"]);
    await promoteVersion({ root, agent: "a", version: "v1" });
    await rm(join(versionsDir, "v3"), { recursive: true });
    expect(await rollback({ root, agent: "a" })).toMatchObject({ to: "v2", basis: "history" });
    await writeFile(join(root, "a", CURRENT_HISTORY_FILE), "{ not json");
    expect(await rollback({ root, agent: "a" })).toMatchObject({ from: "v2", to: "v1", basis: "publication" });
  });

  it("retention keeps the version rollback would return to", async () => {
    const { root } = await storeWith(["v1", "v2", "v3", "v4", "v5"]);
    await promoteVersion({ root, agent: "a", version: "v2" });
    await promoteVersion({ root, agent: "a", version: "v1" });
    const report = await gc({ root, agent: "a", keep: 1 });
    expect(report.agents[0]?.retention).toEqual({ keep: ["v5", "v2", "v1"], remove: ["v4", "v3"], skipped: [] });
    expect(await rollback({ root, agent: "a" })).toMatchObject({ to: "v2", basis: "history" });
  });
});

describe("retention and gc", () => {
  it("keeps the N newest plus current and its previous version", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3", "v4", "v5"]);
    await rollback({ root, agent: "a", to: "v2" });
    const report = await gc({ root, keep: 1 });
    expect(report.agents[0]?.retention).toEqual({ keep: ["v5", "v2", "v1"], remove: ["v4", "v3"], skipped: [] });
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v2", "v5"]);
    expect(await current(root)).toBe("v2");
    expect(await readdir(join(root, "a", ".trash"))).toEqual([]);
  });

  it("applies retention after a publish with keep", async () => {
    const { root, source, versionsDir } = await storeWith(["v1", "v2", "v3"]);
    const result = await publish({ root, agent: "a", version: "v4", sourceDir: source, keep: 2 });
    expect(result.retention).toEqual({ keep: ["v4", "v3"], remove: ["v2", "v1"], skipped: [] });
    expect((await readdir(versionsDir)).sort()).toEqual(["v3", "v4"]);
  });

  it("changes nothing in a dry run", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3", "v4"]);
    const report = await gc({ root, agent: "a", keep: 1, dryRun: true });
    expect(report).toMatchObject({ dryRun: true, keep: 1 });
    expect(report.agents[0]?.retention.remove).toEqual(["v2", "v1"]);
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v2", "v3", "v4"]);
  });

  it("never removes a version whose manifest it cannot read", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3", "v4"]);
    await writeFile(join(versionsDir, "v1", "manifest.json"), "garbage");
    const report = await gc({ root, agent: "a", keep: 1 });
    expect(report.agents[0]?.retention.remove).toEqual(["v2"]);
    expect(report.agents[0]?.retention.skipped).toEqual([{ version: "v1", reason: expect.stringContaining("invalid") }]);
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v3", "v4"]);
  });

  it("orders JustNewsAgent manifests (no created_at) by the manifest's mtime", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2"]);
    for (const v of ["v1", "v2"]) {
      const manifest = JSON.parse(await readFile(join(versionsDir, v, "manifest.json"), "utf8"));
      await writeFile(
        join(versionsDir, v, "manifest.json"),
        JSON.stringify({ version: v, checksum: manifest.checksum, metadata: {} }, null, 2),
      );
    }
    const listing = await listVersions({ root, agent: "a" });
    expect(listing.versions.map((v) => [v.version, v.createdAtSource])).toEqual([
      ["v1", "manifest-mtime"],
      ["v2", "manifest-mtime"],
    ]);
    expect(await rollback({ root, agent: "a" })).toMatchObject({ to: "v1" });
  });

  it("refuses retention while current is dangling, before removing anything", async () => {
    const { root, versionsDir } = await storeWith(["v1", "v2", "v3"]);
    await rm(join(root, "a", "current"));
    await symlink("versions/nope", join(root, "a", "current"));
    await expect(gc({ root, keep: 1 })).rejects.toMatchObject({ code: "STORE_CURRENT_DANGLING" });
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v2", "v3"]);
  });

  it("refuses keep < 1 and unknown agents", async () => {
    const { root } = await storeWith(["v1"]);
    await expect(gc({ root, keep: 0 })).rejects.toMatchObject({ code: "INVALID_LIMIT" });
    await expect(gc({ root, agent: "ghost" })).rejects.toMatchObject({ code: "STORE_AGENT_NOT_FOUND" });
  });

  it("walks every agent and skips folders that are not agents", async () => {
    const { root, source } = await storeAndSource();
    for (const agent of ["x", "y"]) for (const v of ["v1", "v2"]) await publish({ root, agent, version: v, sourceDir: source });
    await mkdir(join(root, "not-an-agent"));
    const report = await gc({ root, keep: 1 });
    expect(report.agents.map((a) => [a.agent, a.retention.remove])).toEqual([
      ["x", []],
      ["y", []],
    ]);
  });
});
