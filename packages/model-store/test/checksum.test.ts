import { mkdir, symlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeChecksum } from "../src/index.js";
import { READ_CHUNK_BYTES } from "../src/checksum.js";
import { tempDir, writeTree } from "./helpers.js";

/** The definition spelled out: sha256 over path bytes then file bytes, in the given order. */
function expected(entries: [string, string | Buffer][]): string {
  const hash = createHash("sha256");
  for (const [path, content] of entries) {
    hash.update(Buffer.from(path, "utf8"));
    hash.update(content);
  }
  return hash.digest("hex");
}

describe("computeChecksum (JustNewsAgent definition)", () => {
  it("is empty for a missing path", async () => {
    expect(await computeChecksum(join(await tempDir(), "missing"))).toBe("");
  });

  it("hashes a folder's files before its subfolders, both sorted, and skips manifest.json at every depth", async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      "b.txt": "B",
      "a.txt": "A",
      "manifest.json": "skip",
      "z/manifest.json": "skip",
      "z/y.txt": "Y",
      "m/n/o.txt": "O",
      "m/k.txt": "K",
    });
    expect(await computeChecksum(dir)).toBe(
      expected([
        ["a.txt", "A"],
        ["b.txt", "B"],
        ["m/k.txt", "K"],
        ["m/n/o.txt", "O"],
        ["z/y.txt", "Y"],
      ]),
    );
  });

  it("changes when a file is renamed or moved, not only when bytes change", async () => {
    const one = await tempDir();
    const two = await tempDir();
    await writeTree(one, { "a/b.txt": "x" });
    await writeTree(two, { "a/c.txt": "x" });
    expect(await computeChecksum(one)).not.toBe(await computeChecksum(two));
  });

  it("follows symlinks to files and ignores symlinks to folders, as os.walk does", async () => {
    const dir = await tempDir();
    const tree = join(dir, "tree");
    await writeTree(dir, { "outside/f.txt": "F", "tree/a.txt": "A" });
    await symlink(join(dir, "outside", "f.txt"), join(tree, "linked.txt"));
    await symlink(join(dir, "outside"), join(tree, "linked-dir"));
    expect(await computeChecksum(tree)).toBe(
      expected([
        ["a.txt", "A"],
        ["linked.txt", "F"],
      ]),
    );
  });

  it("streams files larger than one read chunk and handles empty files and folders", async () => {
    const dir = await tempDir();
    const big = Buffer.alloc(READ_CHUNK_BYTES * 2 + 123, 1);
    big[READ_CHUNK_BYTES + 5] = 9;
    await writeTree(dir, { "big.bin": big, "empty.bin": "" });
    await mkdir(join(dir, "empty-dir"));
    expect(await computeChecksum(dir)).toBe(
      expected([
        ["big.bin", big],
        ["empty.bin", ""],
      ]),
    );
  });
});
