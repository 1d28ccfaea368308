import { spawnSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, LIBRARY, tempDir } from "./helpers.js";

let lib: typeof import("../../packages/model-store/src/index.js");

beforeAll(async () => {
  assertBuilt();
  lib = await import(LIBRARY);
});

/** Runs a short-lived node process that makes `.claim-<its tag>-…` under versionsDir and exits (SIGKILL's effect: no record). */
function claimOfDeadWriter(versionsDir: string, version: string): string {
  const script = `import(${JSON.stringify(LIBRARY)}).then(async (m) => {
    const { mkdirSync } = await import("node:fs");
    const name = ".claim-" + m.writerTag() + "-0badc0de-" + ${JSON.stringify(version)};
    mkdirSync(${JSON.stringify(versionsDir)} + "/" + name);
    process.stdout.write(name);
  });`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`claim maker failed: ${run.stderr}`);
  return run.stdout;
}

/** A store whose agent "a" has one version, v1, published from a one-file source folder. */
async function storeWithV1(): Promise<{ root: string; source: string }> {
  const dir = await tempDir();
  const source = join(dir, "source");
  await mkdir(source);
  await writeFile(join(source, "weights.bin"), "w");
  const root = join(dir, "store");
  await lib.publish({ root, agent: "a", version: "v1", sourceDir: source });
  return { root, source };
}

describe("claim folders name their writer from the moment they exist", () => {
  it("a dead writer's claim without a record is removed by the next writer at once, not after 60 s", async () => {
    const { root, source } = await storeWithV1();
    const versionsDir = join(root, "a", "versions");
    const claim = claimOfDeadWriter(versionsDir, "v2");
    expect(await readdir(versionsDir)).toContain(claim);

    const listing = await lib.listVersions({ root, agent: "a" });
    expect(listing.staging).toMatchObject([{ name: claim, stale: true, liveness: "dead" }]);

    const next = await lib.publish({ root, agent: "a", version: "v3", sourceDir: source });
    expect(next.cleanedStaging).toEqual([claim]);
    expect((await readdir(versionsDir)).sort()).toEqual(["v1", "v3"]);
  });

  it("a live writer's claim (this process's tag) without a record stays, for the age limit to judge", async () => {
    const { root } = await storeWithV1();
    const claim = `.claim-${lib.writerTag()}-0badc0de-v2`;
    await mkdir(join(root, "a", "versions", claim));
    const listing = await lib.listVersions({ root, agent: "a" });
    expect(listing.staging).toMatchObject([{ name: claim, stale: false }]);
  });
});
