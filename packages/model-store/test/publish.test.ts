import { lstat, mkdir, readFile, readlink, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeChecksum, listVersions, publish, resolveCurrent, stageVersion } from "../src/index.js";
import { storeAndSource, tempDir, writeTree } from "./helpers.js";

describe("publish", () => {
  it("stages, finalizes and switches current like JustNewsAgent's ModelStore", async () => {
    const { root, source } = await storeAndSource();
    const result = await publish({ root, agent: "analyst", version: "v1", sourceDir: source, metadata: { author: "ops", epoch: 3 } });
    expect(result).toMatchObject({ agent: "analyst", version: "v1", fileCount: 3, totalBytes: 14, current: true, cleanedStaging: [] });

    const agentDir = join(root, "analyst");
    expect(await readlink(join(agentDir, "current"))).toBe("versions/v1");
    expect((await readdir(join(agentDir, "versions"))).sort()).toEqual(["v1"]);
    const manifest = JSON.parse(await readFile(join(agentDir, "versions", "v1", "manifest.json"), "utf8"));
    expect(Object.keys(manifest)).toEqual(["version", "checksum", "metadata"]);
    expect(manifest.version).toBe("v1");
    expect(manifest.checksum).toBe(await computeChecksum(join(agentDir, "versions", "v1")));
    expect(manifest.checksum).toBe(result.checksum);
    expect(manifest.metadata).toMatchObject({ author: "ops", epoch: 3, file_count: 3, total_bytes: 14 });
    expect(Date.parse(manifest.metadata.created_at)).not.toBeNaN();
    expect(Object.keys(manifest.metadata.files)).toEqual(["config.json", "tokenizer.json", "weights/model.bin"]);
    expect(manifest.metadata.files["weights/model.bin"]).toEqual({
      sha256: "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882",
      size: 10,
    });
    expect(manifest.metadata.publisher.pid).toBe(process.pid);
  });

  it("makes folders 2775 and files 664 for a group-shared store", async () => {
    const { root, source } = await storeAndSource();
    await publish({ root, agent: "analyst", version: "v1", sourceDir: source });
    const version = join(root, "analyst", "versions", "v1");
    for (const dir of [join(root, "analyst"), join(root, "analyst", "versions"), version, join(version, "weights")]) {
      expect(((await stat(dir)).mode & 0o7777).toString(8)).toBe("2775");
    }
    for (const file of ["config.json", "weights/model.bin", "manifest.json"]) {
      expect(((await stat(join(version, file))).mode & 0o777).toString(8)).toBe("664");
    }
  });

  it("publishes a list of files from memory and from disk", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "engine.plan"), "plan-bytes");
    const root = join(dir, "store");
    const result = await publish({
      root,
      agent: "builder",
      version: "v1",
      files: [
        { path: "engine/model.engine", sourcePath: join(dir, "engine.plan") },
        { path: "engine/model.json", data: JSON.stringify({ kind: "marker" }) },
        { path: "provenance.json", data: new TextEncoder().encode("{}") },
      ],
    });
    expect(result.fileCount).toBe(3);
    expect(await readFile(join(root, "builder", "versions", "v1", "engine", "model.engine"), "utf8")).toBe("plan-bytes");
  });

  it.each([
    ["../escape", "segment"],
    ["/abs/path", "absolute"],
    ["a//b", "segment"],
    ["manifest.json", "manifest.json"],
    ["a\\b", "backslash"],
  ])("refuses the file path %j before creating anything", async (path, why) => {
    const dir = await tempDir();
    const root = join(dir, "store");
    await expect(publish({ root, agent: "a", version: "v1", files: [{ path, data: "x" }] })).rejects.toMatchObject({
      code: "INVALID_NAME",
      message: expect.stringContaining(why),
    });
    await expect(stat(root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a file listed twice or both as file and folder", async () => {
    const root = join(await tempDir(), "store");
    for (const second of ["x", "x/y"]) {
      const files = [
        { path: "x", data: "1" },
        { path: second, data: "2" },
      ];
      await expect(publish({ root, agent: "a", version: "v1", files })).rejects.toMatchObject({ code: "INVALID_NAME" });
    }
  });

  it("refuses a source whose top-level manifest.json it would overwrite, and store-owned metadata keys", async () => {
    const { root, source } = await storeAndSource({ "manifest.json": "{}", "a.bin": "x" });
    await expect(publish({ root, agent: "a", version: "v1", sourceDir: source })).rejects.toMatchObject({ code: "STORE_MANIFEST_INVALID" });
    const other = await storeAndSource();
    await expect(
      publish({ root: other.root, agent: "a", version: "v1", sourceDir: other.source, metadata: { files: {} } }),
    ).rejects.toMatchObject({
      code: "STORE_MANIFEST_INVALID",
      message: expect.stringContaining('"files"'),
    });
  });

  it("refuses a missing, empty or non-folder source before creating anything", async () => {
    const dir = await tempDir();
    await writeTree(dir, { "a-file": "x" });
    await mkdir(join(dir, "empty", "sub"), { recursive: true });
    const root = join(dir, "store");
    await expect(publish({ root, agent: "a", version: "v1", sourceDir: join(dir, "missing") })).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
    });
    await expect(publish({ root, agent: "a", version: "v1", sourceDir: join(dir, "empty") })).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      message: expect.stringContaining("nothing to publish"),
    });
    await expect(publish({ root, agent: "a", version: "v1", sourceDir: join(dir, "a-file") })).rejects.toMatchObject({
      code: "NOT_A_DIRECTORY",
    });
    await expect(stat(root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("keeps published versions immutable: the same version twice is STORE_VERSION_EXISTS", async () => {
    const { root, source } = await storeAndSource();
    await publish({ root, agent: "a", version: "v1", sourceDir: source });
    await expect(publish({ root, agent: "a", version: "v1", sourceDir: source })).rejects.toMatchObject({
      code: "STORE_VERSION_EXISTS",
      input: join(root, "a", "versions", "v1"),
    });
  });

  it("can publish without switching current", async () => {
    const { root, source } = await storeAndSource();
    await publish({ root, agent: "a", version: "v1", sourceDir: source });
    const result = await publish({ root, agent: "a", version: "v2", sourceDir: source, setCurrent: false });
    expect(result).toMatchObject({ current: false, previousCurrent: "v1" });
    expect((await resolveCurrent({ root, agent: "a" }))?.version).toBe("v1");
  });

  it("follows symlinks to files (HF cache snapshots) and refuses symlinks to folders", async () => {
    const { root, source } = await storeAndSource({ "blobs/abc": "weights", "snap/config.json": "{}" });
    await symlink(join(source, "blobs", "abc"), join(source, "snap", "model.safetensors"));
    await publish({ root, agent: "a", version: "v1", sourceDir: join(source, "snap") });
    const stored = join(root, "a", "versions", "v1", "model.safetensors");
    expect((await lstat(stored)).isFile()).toBe(true);
    expect(await readFile(stored, "utf8")).toBe("weights");

    await symlink(join(source, "blobs"), join(source, "snap", "linked-dir"));
    await expect(publish({ root, agent: "a", version: "v2", sourceDir: join(source, "snap") })).rejects.toMatchObject({
      code: "NOT_A_FILE",
    });
  });

  it("lets one of several concurrent publishers of a version win; the others get STORE_VERSION_EXISTS", async () => {
    const { root, source } = await storeAndSource();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => publish({ root, agent: "a", version: "v1", sourceDir: source })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === "rejected"))
      expect(r.reason).toMatchObject({ code: "STORE_VERSION_EXISTS" });
    expect((await listVersions({ root, agent: "a" })).staging).toEqual([]);
  });
});

describe("stageVersion (JustNewsAgent's stage_new + finalize)", () => {
  it("hands out versions/<v>.tmp to fill, then finalizes it", async () => {
    const root = join(await tempDir(), "store");
    const staged = await stageVersion({ root, agent: "scout", version: "v20250826" });
    expect(staged.dir).toBe(join(root, "scout", "versions", "v20250826.tmp"));
    await writeTree(staged.dir, { "model/config.json": "{}", "model/weights.bin": "w" });
    const result = await staged.finalize({ metadata: { commit: "abc" } });
    expect(result.fileCount).toBe(2);
    expect(await readdir(join(root, "scout", "versions"))).toEqual(["v20250826"]);
    await expect(staged.finalize()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("removes the staging folder on abort", async () => {
    const root = join(await tempDir(), "store");
    const staged = await stageVersion({ root, agent: "scout", version: "v1" });
    await writeTree(staged.dir, { "a.bin": "x" });
    await staged.abort();
    expect(await readdir(join(root, "scout", "versions"))).toEqual([]);
  });

  it("refuses to finalize an empty staging folder and cleans it up", async () => {
    const root = join(await tempDir(), "store");
    const staged = await stageVersion({ root, agent: "scout", version: "v1" });
    await expect(staged.finalize()).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    expect(await readdir(join(root, "scout", "versions"))).toEqual([]);
  });
});
