import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fsyncDirectory } from "@trtforge/core";
import { isErrno } from "./errno.js";

/** JustNewsAgent's guidelines ask for a group-shared store: setgid folders (group inherited), group-writable files. */
export const DIR_MODE = 0o2775;
export const FILE_MODE = 0o664;

export type PathKind = "missing" | "file" | "directory" | "symlink" | "other";

export async function pathKind(path: string): Promise<PathKind> {
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return "symlink";
    if (info.isDirectory()) return "directory";
    if (info.isFile()) return "file";
    return "other";
  } catch (err) {
    if (isErrno(err, "ENOENT")) return "missing";
    throw err;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return false;
    throw err;
  }
}

/** chmod that gives up quietly where the filesystem or ownership forbids it ("where possible"). */
export async function applyMode(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    if (!isErrno(err, "EPERM", "EACCES", "ENOTSUP", "EOPNOTSUPP", "EINVAL")) throw err;
  }
}

/** Creates one folder with the shared mode; false if it already existed. */
export async function makeSharedDir(path: string): Promise<boolean> {
  try {
    await mkdir(path);
  } catch (err) {
    if (isErrno(err, "EEXIST") && (await isDirectory(path))) return false;
    throw err;
  }
  await applyMode(path, DIR_MODE);
  return true;
}

/** Creates `path` and missing parents down from `base` (which must exist), each with the shared mode; the caller fsyncs. */
export async function makeSharedDirs(base: string, path: string): Promise<void> {
  if (path === base) return;
  const parent = dirname(path);
  if (parent !== base && !(await isDirectory(parent))) await makeSharedDirs(base, parent);
  await makeSharedDir(path);
}

export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every folder under (and including) `dir`, deepest first, so that fsyncs run children before parents. */
export async function directoriesDeepestFirst(dir: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (entry.isDirectory()) await visit(join(current, entry.name));
    }
    found.push(current);
  };
  await visit(dir);
  return found;
}

/**
 * Removes a tree without it ever being visible half-deleted under its own name: it is first renamed
 * into `trashDir` (same filesystem, so atomic), then deleted there. A crash mid-delete leaves only
 * trash, which gc and the next writer empty.
 */
export async function removeViaTrash(path: string, trashDir: string): Promise<void> {
  await makeSharedDir(trashDir);
  const parked = join(trashDir, `${basename(path)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  await rename(path, parked);
  await fsyncDirectory(dirname(path));
  await rm(parked, { recursive: true, force: true });
}

export async function emptyTrash(trashDir: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(trashDir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return 0;
    throw err;
  }
  for (const name of entries) await rm(join(trashDir, name), { recursive: true, force: true });
  return entries.length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
