import { randomBytes } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, LIBRARY, runCli, tempDir } from "./helpers.js";

let lib: typeof import("../../packages/model-store/src/index.js");

beforeAll(async () => {
  assertBuilt();
  lib = await import(LIBRARY);
});

const PUBLISHERS = 8;

async function sourceTree(dir: string): Promise<string> {
  const source = join(dir, "source");
  for (let i = 0; i < 8; i += 1) {
    await mkdir(join(source, `part-${i % 2}`), { recursive: true });
    await writeFile(join(source, `part-${i % 2}`, `w-${i}.bin`), randomBytes(256 * 1024));
  }
  return source;
}

describe("concurrent publishers in separate processes", () => {
  it("of the same version: exactly one succeeds, the others get STORE_VERSION_EXISTS", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "store");
    const runs = await Promise.all(
      Array.from({ length: PUBLISHERS }, () =>
        runCli(["publish", "--root", root, "--agent", "race", "--version", "v1", "--json", source], { LOG_LEVEL: "warn" }),
      ),
    );
    const winners = runs.filter((r) => r.code === 0);
    expect(winners, runs.map((r) => r.stderr).join("\n")).toHaveLength(1);
    for (const loser of runs.filter((r) => r.code !== 0)) {
      expect(loser.code, loser.stderr).toBe(60);
      expect(loser.json.error.code).toBe("STORE_VERSION_EXISTS");
    }
    expect(await readdir(join(root, "race", "versions"))).toEqual(["v1"]);
    expect((await lib.verifyVersion({ root, agent: "race" })).ok).toBe(true);
    // current-history.json: the record of current's switches (rollback); no lock, temp or staging debris beside it.
    expect((await readdir(join(root, "race"))).sort()).toEqual(["current", "current-history.json", "versions"]);
  });

  it("of different versions: all succeed and current ends on one complete version", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "store");
    const versions = Array.from({ length: PUBLISHERS }, (_, i) => `v${i + 1}`);
    const runs = await Promise.all(
      versions.map((v) => runCli(["publish", "--root", root, "--agent", "race", "--version", v, "--json", source], { LOG_LEVEL: "warn" })),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect((await readdir(join(root, "race", "versions"))).sort()).toEqual([...versions].sort());
    const current = await lib.resolveCurrent({ root, agent: "race", strict: true });
    expect(versions).toContain(current?.version);
    // The last one to finalize is current: the newest by created_at.
    const listing = await lib.listVersions({ root, agent: "race" });
    expect(listing.versions.at(-1)?.version).toBe(current?.version);
    for (const v of versions) expect((await lib.verifyVersion({ root, agent: "race", version: v })).ok).toBe(true);
    expect(listing.staging).toEqual([]);
  });
});
