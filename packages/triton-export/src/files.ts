import { copyFile, link, mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";

export type PlaceMode = "copy" | "link";

/**
 * Puts a store file into the repository: a hard link (no bytes copied; store versions never change
 * after publish) or a copy. A link across filesystems is impossible, so it falls back to a copy.
 */
export async function placeFile(source: string, target: string, mode: PlaceMode): Promise<"linked" | "copied"> {
  await mkdir(dirname(target), { recursive: true });
  if (mode === "link") {
    try {
      await link(source, target);
      return "linked";
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EXDEV" && (err as NodeJS.ErrnoException).code !== "EPERM") throw err;
    }
  }
  await copyFile(source, target);
  return "copied";
}

/** Every file under `dir`, relative, "/"-separated. */
export async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listTree(dir, rel)));
    else out.push(rel);
  }
  return out;
}
