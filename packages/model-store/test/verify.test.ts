import { appendFile, open, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertVerified, computeChecksum, publish, verifyVersion } from "../src/index.js";
import { storeAndSource } from "./helpers.js";

async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, "r+");
  try {
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, offset);
    one[0] = (one[0] as number) ^ 0x01;
    await handle.write(one, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

async function published(files?: Record<string, string | Uint8Array>) {
  const { root, source } = await storeAndSource(files);
  const result = await publish({ root, agent: "a", version: "v1", sourceDir: source });
  return { root, version: result.path };
}

describe("verify", () => {
  it("passes an intact version (current by default)", async () => {
    const { root } = await published();
    const report = await verifyVersion({ root, agent: "a" });
    expect(report).toMatchObject({ ok: true, version: "v1", fileCount: 3, totalBytes: 14, problems: [], perFileRecorded: true });
    expect(report.actualChecksum).toBe(report.expectedChecksum);
    expect(() => assertVerified(report)).not.toThrow();
    // The pipeline takes this as the model folder's checksum instead of hashing the folder again.
    expect(report.actualChecksum).toBe(await computeChecksum(report.path));
  });

  it("names the file with one flipped byte", async () => {
    const big = Buffer.alloc(6 << 20, 7);
    const { root, version } = await published({ "a.bin": "aaaa", "layers/b.bin": big, "layers/c.bin": "cccc" });
    await flipByte(join(version, "layers", "b.bin"), 5 << 20);
    const report = await verifyVersion({ root, agent: "a", version: "v1" });
    expect(report.ok).toBe(false);
    expect(report.firstBadFile).toBe("layers/b.bin");
    expect(report.problems).toEqual([expect.objectContaining({ file: "layers/b.bin", kind: "modified" })]);
    expect(() => assertVerified(report)).toThrow(
      expect.objectContaining({ code: "STORE_CHECKSUM_MISMATCH", input: join(version, "layers", "b.bin") }),
    );
    expect(() => assertVerified(report)).toThrow(/first bad file layers\/b\.bin/);
  });

  it("names added, removed and resized files", async () => {
    const { root, version } = await published({ "a.bin": "aaaa", "b.bin": "bbbb", "c.bin": "cccc" });
    await writeFile(join(version, "extra.txt"), "new");
    await rm(join(version, "b.bin"));
    await appendFile(join(version, "c.bin"), "!");
    const report = await verifyVersion({ root, agent: "a" });
    expect(report.problems.map((p) => [p.file, p.kind])).toEqual([
      ["c.bin", "modified"],
      ["extra.txt", "extra"],
      ["b.bin", "missing"],
    ]);
    expect(report.firstBadFile).toBe("c.bin");
  });

  it("covers nested manifest.json files, which the JustNewsAgent checksum skips, by their own hashes", async () => {
    const { root, version } = await published({ "sub/manifest.json": '{"x":1}', "a.bin": "a" });
    await writeFile(join(version, "sub", "manifest.json"), '{"x":2}');
    const report = await verifyVersion({ root, agent: "a" });
    expect(report.actualChecksum).toBe(report.expectedChecksum);
    expect(report).toMatchObject({ ok: false, firstBadFile: "sub/manifest.json" });
  });

  it("detects a mismatch in a JustNewsAgent manifest (no per-file hashes) without naming a file", async () => {
    const { root, version } = await published({ "a.bin": "a" });
    const manifest = JSON.parse(await readFile(join(version, "manifest.json"), "utf8"));
    await writeFile(join(version, "manifest.json"), JSON.stringify({ version: "v1", checksum: manifest.checksum, metadata: {} }, null, 2));
    expect((await verifyVersion({ root, agent: "a" })).ok).toBe(true);
    await writeFile(join(version, "a.bin"), "b");
    const report = await verifyVersion({ root, agent: "a" });
    expect(report).toMatchObject({ ok: false, perFileRecorded: false });
    expect(report.firstBadFile).toBeUndefined();
    expect(report.problems[0]).toMatchObject({ kind: "checksum", message: expect.stringContaining("cannot be named") });
  });

  it("flags a manifest that names another version", async () => {
    const { root, version } = await published();
    const manifest = JSON.parse(await readFile(join(version, "manifest.json"), "utf8"));
    await writeFile(join(version, "manifest.json"), JSON.stringify({ ...manifest, version: "v9" }));
    const report = await verifyVersion({ root, agent: "a" });
    expect(report.problems[0]).toMatchObject({ kind: "manifest", message: expect.stringContaining('"v9"') });
  });

  it("reports a missing or unreadable manifest as STORE_MANIFEST_INVALID", async () => {
    const { root, version } = await published();
    await writeFile(join(version, "manifest.json"), "{ not json");
    await expect(verifyVersion({ root, agent: "a" })).rejects.toMatchObject({
      code: "STORE_MANIFEST_INVALID",
      input: join(version, "manifest.json"),
    });
    await writeFile(join(version, "manifest.json"), JSON.stringify({ version: "v1" }));
    await expect(verifyVersion({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_MANIFEST_INVALID" });
    await rm(join(version, "manifest.json"));
    await expect(verifyVersion({ root, agent: "a" })).rejects.toMatchObject({
      code: "STORE_MANIFEST_INVALID",
      message: expect.stringContaining("no manifest.json"),
    });
  });

  it("reports unknown agents and versions, and a broken symlink inside a version", async () => {
    const { root, version } = await published();
    await expect(verifyVersion({ root, agent: "nobody" })).rejects.toMatchObject({ code: "STORE_AGENT_NOT_FOUND" });
    await expect(verifyVersion({ root, agent: "a", version: "v2" })).rejects.toMatchObject({ code: "STORE_VERSION_NOT_FOUND" });
    await symlink(join(version, "nowhere"), join(version, "dangling.bin"));
    await expect(verifyVersion({ root, agent: "a" })).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      input: join(version, "dangling.bin"),
    });
  });
});
