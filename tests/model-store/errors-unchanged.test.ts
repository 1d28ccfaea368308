import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, LIBRARY, runCli, snapshotTree, tempDir } from "./helpers.js";

let lib: typeof import("../../packages/model-store/src/index.js");

beforeAll(async () => {
  assertBuilt();
  lib = await import(LIBRARY);
});

/**
 * A store with something wrong in every corner: agent "a" (v1, v2 current, "broken" with an
 * unreadable manifest, and a dead writer's staging that gc must not touch when it fails), agent
 * "dangling" whose current points nowhere, agent "nomanifest" whose current version lacks a manifest.
 */
async function troubledStore() {
  // Shared by all cases (and removed in afterAll), unlike tempDir() folders which go after each test.
  const dir = await mkdtemp(join(tmpdir(), "model-store-troubled-"));
  const root = join(dir, "store");
  const source = join(dir, "source");
  const notModel = join(dir, "not-a-model");
  await mkdir(source);
  await mkdir(notModel);
  await writeFile(join(source, "config.json"), "{}");
  await writeFile(join(notModel, "readme.md"), "hello");
  await lib.publish({ root, agent: "a", version: "broken", sourceDir: source });
  await lib.publish({ root, agent: "a", version: "v1", sourceDir: source });
  await lib.publish({ root, agent: "a", version: "v2", sourceDir: source });
  await writeFile(join(root, "a", "versions", "broken", "manifest.json"), "{ this is not json");
  const staging = join(root, "a", "versions", "v3.tmp");
  await mkdir(staging);
  await writeFile(
    join(staging, "manifest.json"),
    JSON.stringify({
      version: "v3",
      checksum: "",
      metadata: {
        staging: { token: "deadbeefdeadbeef", writer: { pid: 999_999_999, hostname: hostname() }, started_at: "2020-01-01T00:00:00Z" },
      },
    }),
  );
  await lib.publish({ root, agent: "dangling", version: "v1", sourceDir: source });
  await lib.publish({ root, agent: "nomanifest", version: "v1", sourceDir: source });
  await rm(join(root, "nomanifest", "versions", "v1", "manifest.json"));
  await rm(join(root, "dangling", "current"));
  await symlink("versions/v0", join(root, "dangling", "current"));
  return { dir, root, source, notModel };
}

let store: Awaited<ReturnType<typeof troubledStore>>;
beforeAll(async () => {
  store = await troubledStore();
});
afterAll(async () => {
  await rm(store.dir, { recursive: true, force: true });
});

type Case = [label: string, args: (s: typeof store) => string[], code: string, exit: number];

const CASES: Case[] = [
  ["agent name with a separator", (s) => ["publish", "--root", s.root, "--agent", "../x", "--version", "v9", s.source], "INVALID_NAME", 12],
  ["version ending in .tmp", (s) => ["publish", "--root", s.root, "--agent", "a", "--version", "v3.tmp", s.source], "INVALID_NAME", 12],
  ["hidden version name", (s) => ["publish", "--root", s.root, "--agent", "a", "--version", ".v9", s.source], "INVALID_NAME", 12],
  ["version name with ..", (s) => ["show", "--root", s.root, "--agent", "a", "--version", "v..1"], "INVALID_NAME", 12],
  ["existing version", (s) => ["publish", "--root", s.root, "--agent", "a", "--version", "v1", s.source], "STORE_VERSION_EXISTS", 60],
  [
    "reserved metadata key",
    (s) => ["publish", "--root", s.root, "--agent", "a", "--version", "v9", "--metadata", '{"created_at":"x"}', s.source],
    "STORE_MANIFEST_INVALID",
    65,
  ],
  [
    "reserved metadata key promotions (promote's record)",
    (s) => ["publish", "--root", s.root, "--agent", "a", "--version", "v9", "--metadata", '{"promotions":[]}', s.source],
    "STORE_MANIFEST_INVALID",
    65,
  ],
  [
    "metadata that is not JSON",
    (s) => ["publish", "--root", s.root, "--agent", "a", "--version", "v9", "--metadata", "{nope", s.source],
    "JSON_MALFORMED",
    31,
  ],
  [
    "not a model",
    (s) => ["import-hf", "--root", s.root, "--agent", "a", "--version", "v9", "--model", s.notModel],
    "STORE_NOT_A_MODEL",
    69,
  ],
  ["missing agent: show", (s) => ["show", "--root", s.root, "--agent", "ghost"], "STORE_AGENT_NOT_FOUND", 61],
  ["missing agent: verify", (s) => ["verify", "--root", s.root, "--agent", "ghost"], "STORE_AGENT_NOT_FOUND", 61],
  ["missing agent: rollback", (s) => ["rollback", "--root", s.root, "--agent", "ghost"], "STORE_AGENT_NOT_FOUND", 61],
  ["missing agent: list", (s) => ["list", "--root", s.root, "--agent", "ghost"], "STORE_AGENT_NOT_FOUND", 61],
  ["missing agent: gc", (s) => ["gc", "--root", s.root, "--agent", "ghost"], "STORE_AGENT_NOT_FOUND", 61],
  ["missing version", (s) => ["verify", "--root", s.root, "--agent", "a", "--version", "v9"], "STORE_VERSION_NOT_FOUND", 62],
  ["dangling current: show", (s) => ["show", "--root", s.root, "--agent", "dangling"], "STORE_CURRENT_DANGLING", 64],
  ["dangling current: verify", (s) => ["verify", "--root", s.root, "--agent", "dangling"], "STORE_CURRENT_DANGLING", 64],
  ["dangling current: rollback", (s) => ["rollback", "--root", s.root, "--agent", "dangling"], "STORE_CURRENT_DANGLING", 64],
  [
    "dangling current: gc over all agents (a's stale staging stays)",
    (s) => ["gc", "--root", s.root, "--keep", "1"],
    "STORE_CURRENT_DANGLING",
    64,
  ],
  ["unreadable manifest: verify", (s) => ["verify", "--root", s.root, "--agent", "a", "--version", "broken"], "STORE_MANIFEST_INVALID", 65],
  ["unreadable manifest: show", (s) => ["show", "--root", s.root, "--agent", "a", "--version", "broken"], "STORE_MANIFEST_INVALID", 65],
  [
    "unreadable manifest: rollback target",
    (s) => ["rollback", "--root", s.root, "--agent", "a", "--to", "broken"],
    "STORE_MANIFEST_INVALID",
    65,
  ],
  ["missing manifest: verify current", (s) => ["verify", "--root", s.root, "--agent", "nomanifest"], "STORE_MANIFEST_INVALID", 65],
  ["keep below 1", (s) => ["gc", "--root", s.root, "--keep", "0"], "INVALID_LIMIT", 11],
  [
    "root that is a file",
    (s) => ["publish", "--root", join(s.source, "config.json"), "--agent", "a", "--version", "v9", s.source],
    "NOT_A_DIRECTORY",
    22,
  ],
];

describe("failures leave the store byte-identical", () => {
  it.each(CASES)("%s", async (_label, args, code, exit) => {
    const before = await snapshotTree(store.dir);
    const run = await runCli([...args(store), "--json"]);
    expect(run.code, run.stderr).toBe(exit);
    expect(run.json).toMatchObject({ ok: false, error: { code, exit_code: exit, message: expect.any(String) } });
    expect(run.json.error.fix ?? run.json.error.input, "an error names its input or fix").toMatch(/\S/);
    expect(run.stderr).toContain(`error[${code}]`);
    expect(await snapshotTree(store.dir)).toEqual(before);
  });
});

/** A read-only store: a read-only bind mount when we are root and may mount, chmod when we are not. */
async function readOnly(root: string): Promise<(() => void) | undefined> {
  if (process.getuid?.() !== 0) {
    execFileSync("chmod", ["-R", "a-w", root]);
    return () => execFileSync("chmod", ["-R", "u+w", root]);
  }
  try {
    execFileSync("mount", ["--bind", "-o", "ro", root, root], { stdio: "ignore" });
    execFileSync("mount", ["-o", "remount,bind,ro", root], { stdio: "ignore" });
  } catch {
    try {
      execFileSync("umount", [root], { stdio: "ignore" });
    } catch {
      // not mounted
    }
    return undefined;
  }
  return () => execFileSync("umount", [root]);
}

describe("read-only store", () => {
  it("refuses writes with STORE_READ_ONLY and changes nothing (skipped when root may not mount)", async (ctx) => {
    const dir = await tempDir();
    const root = join(dir, "store");
    const source = join(dir, "source");
    await mkdir(source);
    await writeFile(join(source, "w.bin"), "w");
    await lib.publish({ root, agent: "a", version: "v1", sourceDir: source });
    await lib.publish({ root, agent: "a", version: "v2", sourceDir: source });
    const restore = await readOnly(root);
    if (restore === undefined) {
      ctx.skip();
      return;
    }
    try {
      const before = await snapshotTree(root);
      for (const args of [
        ["publish", "--agent", "a", "--version", "v3", source],
        ["publish", "--agent", "new-agent", "--version", "v1", source],
        ["rollback", "--agent", "a"],
        ["gc", "--keep", "1"],
      ]) {
        const run = await runCli([...args, "--root", root, "--json"]);
        expect(run.json?.error, `${args.join(" ")}: ${run.stderr}`).toMatchObject({ code: "STORE_READ_ONLY", input: root });
        expect(run.code).toBe(67);
      }
      const verified = await runCli(["verify", "--root", root, "--agent", "a", "--json"]);
      expect(verified.json).toMatchObject({ ok: true });
      expect(await snapshotTree(root)).toEqual(before);
    } finally {
      restore();
    }
  });
});
