import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fsError, sha256File } from "@trtforge/core";

/**
 * The identity of a dataset: sha256 of a file's bytes, or for a folder of its top-level files in
 * name order, each as its name then its bytes. Calibration results are keyed on it.
 */
export async function datasetSha256(path: string, isDir: boolean): Promise<string> {
  if (!isDir) return sha256File(path);
  const hash = createHash("sha256");
  try {
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    for (const name of names) {
      hash.update(name, "utf8");
      for await (const chunk of createReadStream(join(path, name), { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    }
  } catch (err) {
    throw fsError(err, path, "hashing dataset");
  }
  return hash.digest("hex");
}
