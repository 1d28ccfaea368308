import { constants } from "node:fs";
import { access, copyFile, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ForgeError, fsyncDirectory } from "@trtforge/core";
import { applyMode, directoriesDeepestFirst, FILE_MODE, makeSharedDirs } from "@trtforge/fs-kit";
import { MANIFEST_NAME } from "./paths.js";
import { storeReadError } from "./store-errors.js";
import { walkTree, type TreeFile } from "./tree-walk.js";

/** One file to publish: bytes in memory, or a file on disk to copy. `path` is relative, "/"-separated. */
export type PublishFile = { path: string; data: string | Uint8Array } | { path: string; sourcePath: string };

/** A validated plan: every target path is safe inside the staging folder. */
export interface StagePlan {
  files: { relPath: string; data?: string | Uint8Array; sourcePath?: string }[];
}

function badPath(path: string, why: string): ForgeError {
  return new ForgeError("INVALID_NAME", `cannot publish "${path}": ${why}`, {
    input: path,
    fix: 'use relative paths with "/" separators, no "." or ".." segments, and not the top-level manifest.json (the store writes it)',
  });
}

function checkRelativePath(path: string): void {
  if (path.length === 0) throw badPath(path, "the path is empty");
  if (path.includes("\\") || path.includes("\0")) throw badPath(path, "it contains a backslash or NUL");
  if (path.startsWith("/")) throw badPath(path, "it is absolute");
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) throw badPath(path, 'it has an empty, "." or ".." segment');
  if (path === MANIFEST_NAME) throw badPath(path, "the top-level manifest.json is written by the store");
}

export function planFromFiles(files: readonly PublishFile[]): StagePlan {
  const seen = new Set<string>();
  const planned: StagePlan["files"] = [];
  for (const file of files) {
    checkRelativePath(file.path);
    if (seen.has(file.path)) throw badPath(file.path, "it is listed twice");
    seen.add(file.path);
    planned.push("data" in file ? { relPath: file.path, data: file.data } : { relPath: file.path, sourcePath: file.sourcePath });
  }
  for (const path of seen) {
    // "a/b" as a file and "a/b/c" would need "a/b" to be a folder too.
    for (let cut = path.indexOf("/"); cut !== -1; cut = path.indexOf("/", cut + 1)) {
      if (seen.has(path.slice(0, cut))) throw badPath(path, `"${path.slice(0, cut)}" is also listed as a file`);
    }
  }
  return { files: planned };
}

/** Walks a source folder before anything in the store changes, so a bad source costs nothing. */
export async function planFromDirectory(sourceDir: string, options: { skipDirNames?: ReadonlySet<string> } = {}): Promise<StagePlan> {
  const files: TreeFile[] = await walkTree(sourceDir, {
    dirSymlinks: "error",
    ...(options.skipDirNames ? { skipDirNames: options.skipDirNames } : {}),
  });
  if (files.some((f) => f.relPath === MANIFEST_NAME)) {
    throw new ForgeError("STORE_MANIFEST_INVALID", `${join(sourceDir, MANIFEST_NAME)} would be overwritten by the store's own manifest`, {
      input: join(sourceDir, MANIFEST_NAME),
      fix: "rename or remove manifest.json in the source folder (the store records metadata with --metadata)",
    });
  }
  return { files: files.map((f) => ({ relPath: f.relPath, sourcePath: f.absPath })) };
}

async function writeSynced(target: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(target, "wx", FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function copySynced(source: string, target: string): Promise<void> {
  try {
    // copy_file_range/reflink where the kernel offers it; the data is then flushed explicitly.
    await copyFile(source, target, constants.COPYFILE_EXCL);
  } catch (err) {
    // Blame the source only if it is the side that cannot be read; otherwise it is the store's problem.
    const sourceReadable = await access(source, constants.R_OK).then(
      () => true,
      () => false,
    );
    throw sourceReadable ? err : storeReadError(err, source, "copying into the store");
  }
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the plan into the staging folder: folders 2775, files 664, every file fsynced, then every
 * folder fsynced deepest first, so that the later rename publishes data that is already on disk.
 */
export async function writePlan(stagingDir: string, plan: StagePlan): Promise<void> {
  for (const file of plan.files) {
    const target = join(stagingDir, ...file.relPath.split("/"));
    await makeSharedDirs(stagingDir, dirname(target));
    if (file.data !== undefined) await writeSynced(target, file.data);
    else if (file.sourcePath !== undefined) await copySynced(file.sourcePath, target);
    await applyMode(target, FILE_MODE);
  }
  for (const dir of await directoriesDeepestFirst(stagingDir)) await fsyncDirectory(dir);
}
