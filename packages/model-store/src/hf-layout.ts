import { readFile, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ForgeError } from "@trtforge/core";
import { isErrno } from "./store-errors.js";

const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const HF_REPO_PREFIX = "models--";

/** Revisions become folder names (snapshots/<rev>), so they follow the store's name rules. */
export function assertRevision(revision: string, input = "--revision"): string {
  if (!REVISION.test(revision) || revision.includes("..")) {
    throw new ForgeError("INVALID_NAME", `invalid revision "${revision}"`, {
      input,
      fix: "use a commit hash or a branch/tag name of letters, digits, '.', '_' and '-'",
    });
  }
  return revision;
}

/** `org/name` -> `models--org--name`, the Hugging Face cache folder name. */
export function hfRepoFolderName(modelId: string): string {
  return `${HF_REPO_PREFIX}${modelId.split("/").join("--")}`;
}

/** `models--org--name` -> `org/name`; undefined for other names. */
export function modelIdFromRepoFolder(name: string): string | undefined {
  if (!name.startsWith(HF_REPO_PREFIX)) return undefined;
  const parts = name.slice(HF_REPO_PREFIX.length).split("--");
  if (parts.length > 2 || parts.some((p) => p === "")) return undefined;
  return parts.join("/");
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
}

export interface Snapshot {
  dir: string;
  revision: string;
}

/**
 * The snapshot of a cache repo folder to use: the one refs/main names, else the only one, else the
 * most recently modified. (JustNewsAgent's loader takes the first one listed, an OS-dependent choice.)
 */
export async function pickSnapshot(repoDir: string): Promise<Snapshot | undefined> {
  const snapshotsDir = join(repoDir, "snapshots");
  const revisions = await subfolders(snapshotsDir);
  if (revisions.length === 0) return undefined;
  const main = await readFile(join(repoDir, "refs", "main"), "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
  if (main !== undefined && revisions.includes(main)) return { dir: join(snapshotsDir, main), revision: main };
  if (revisions.length === 1) return { dir: join(snapshotsDir, revisions[0] as string), revision: revisions[0] as string };
  let newest: Snapshot | undefined;
  let newestTime = -Infinity;
  for (const revision of revisions) {
    const time = (await stat(join(snapshotsDir, revision))).mtimeMs;
    if (time > newestTime) {
      newestTime = time;
      newest = { dir: join(snapshotsDir, revision), revision };
    }
  }
  return newest;
}

export async function repoFolders(dir: string): Promise<string[]> {
  return (await subfolders(dir)).filter((name) => modelIdFromRepoFolder(name) !== undefined).sort();
}

export interface CacheLocation {
  folder: string;
  modelId?: string;
  revision?: string;
}

/**
 * Understands a path into a Hugging Face cache: a repo folder (`…/models--org--name`) becomes its
 * snapshot, and a snapshot path (`…/models--org--name/snapshots/<rev>`) yields model id and revision.
 * Any other folder is returned as it is.
 */
export async function locateInHfCache(folder: string): Promise<CacheLocation> {
  const repoId = modelIdFromRepoFolder(basename(folder));
  if (repoId !== undefined) {
    const snapshot = await pickSnapshot(folder);
    if (snapshot !== undefined) return { folder: snapshot.dir, modelId: repoId, revision: snapshot.revision };
    return { folder, modelId: repoId };
  }
  if (basename(dirname(folder)) === "snapshots") {
    const snapshotId = modelIdFromRepoFolder(basename(dirname(dirname(folder))));
    if (snapshotId !== undefined) return { folder, modelId: snapshotId, revision: basename(folder) };
  }
  return { folder };
}
