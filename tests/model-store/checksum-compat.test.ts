import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, LIBRARY, tempDir } from "./helpers.js";

// JustNewsAgent's ModelStore.compute_checksum, transcribed; SORT_DIRS=1 adds `dirs.sort()`, the one
// place where ours deliberately differs (the original visits subfolders in OS order).
const PYTHON = `
import hashlib, os, sys
from pathlib import Path

def compute_checksum(path, sort_dirs):
    h = hashlib.sha256()
    if not path.exists():
        return ""
    for root, dirs, files in os.walk(path):
        if sort_dirs:
            dirs.sort()
        files = sorted(files)
        for fname in files:
            if fname == "manifest.json":
                continue
            fpath = Path(root) / fname
            rel = str(fpath.relative_to(path)).encode("utf-8")
            h.update(rel)
            with open(fpath, "rb") as fh:
                while True:
                    chunk = fh.read(8192)
                    if not chunk:
                        break
                    h.update(chunk)
    return h.hexdigest()

print(compute_checksum(Path(sys.argv[1]), sys.argv[2] == "1"))
`;

function pythonChecksum(dir: string, sortDirs: boolean): string {
  return execFileSync("python3", ["-c", PYTHON, dir, sortDirs ? "1" : "0"], { encoding: "utf8" }).trim();
}

async function write(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, ...path.split("/").slice(0, -1)), { recursive: true });
    await writeFile(join(dir, ...path.split("/")), content);
  }
}

// Names chosen to sort differently by UTF-16 code unit and by code point, plus case and accents.
const TRICKY_NAMES = {
  "\uFF5E-fullwidth-tilde.txt": "bmp high",
  "\u{1F600}-emoji.txt": "astral",
  "B-upper.txt": "B",
  "a-lower.txt": "a",
  "\u00E9t\u00E9.txt": "accent",
  "empty.bin": "",
  "large.bin": Buffer.alloc(100_000, 0xab),
  "manifest.json": '{"skipped": true}',
};

let lib: typeof import("../../packages/model-store/src/index.js");

beforeAll(async () => {
  assertBuilt();
  lib = await import(LIBRARY);
});

describe("checksum compatibility with JustNewsAgent (independent Python implementation)", () => {
  it("matches the original code exactly on a tree where subfolder order cannot matter", async () => {
    const dir = await tempDir();
    await write(dir, { ...TRICKY_NAMES, "only/child/deep.txt": "deep", "only/child/manifest.json": "skipped", "only/x.bin": "x" });
    const python = pythonChecksum(dir, false);
    expect(python).toMatch(/^[0-9a-f]{64}$/);
    expect(await lib.computeChecksum(dir)).toBe(python);
  });

  it("matches the original with sorted subfolders on a tree with sibling folders", async () => {
    const dir = await tempDir();
    await write(dir, {
      ...TRICKY_NAMES,
      "zeta/1.txt": "1",
      "alpha/2.txt": "2",
      "alpha/nested/manifest.json": "skipped",
      "alpha/nested/3.txt": "3",
      "\u{1F600}-dir/4.txt": "4",
      "\uFF5E-dir/5.txt": "5",
      "Beta/6.txt": "6",
    });
    expect(await lib.computeChecksum(dir)).toBe(pythonChecksum(dir, true));
  });

  it("writes the Python-compatible checksum into the manifest of a published version", async () => {
    const dir = await tempDir();
    const source = join(dir, "source");
    await write(source, { "config.json": "{}", "sub/a.bin": "a", "sub/b/c.bin": "c", "\u{1F600}.txt": "e" });
    const result = await lib.publish({ root: join(dir, "store"), agent: "a", version: "v1", sourceDir: source });
    expect(result.checksum).toBe(pythonChecksum(result.path, true));
    expect(pythonChecksum(join(dir, "missing"), true)).toBe("");
    expect(await lib.computeChecksum(join(dir, "missing"))).toBe("");
  });
});
