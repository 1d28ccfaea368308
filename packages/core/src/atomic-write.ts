import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ForgeError, fsError, isForgeError } from "./errors.js";

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a directory entry (a rename or a new file) to disk; Linux needs this for durability. */
export async function fsyncDirectory(path: string): Promise<void> {
  try {
    await fsyncPath(path);
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL/EISDIR); the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM") throw err;
  }
}

async function writeAndSync(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, "wx", 0o664);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes a file so that readers see either the old content or the complete new one, never a torn file. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempSibling(target);
  try {
    await writeAndSync(temp, data);
    await rename(temp, target);
    await fsyncDirectory(dirname(target));
  } catch (err) {
    await rm(temp, { force: true });
    throw fsError(err, target, "writing");
  }
}

export interface StagedFile {
  /** File name inside the destination directory. */
  name: string;
  data: string | Uint8Array;
}

/**
 * Publishes a group of files into `directory` all or nothing: each is written and fsynced under a
 * hidden temporary name first, then renamed into place. If any step fails, every file of the group
 * already placed is removed again, so a failed run leaves no engine without its sidecar.
 * Refuses to replace existing files unless `overwrite` is set; with `overwrite`, a failure after
 * some renames leaves neither the old nor the new copy of those files.
 */
export async function publishFiles(
  directory: string,
  files: readonly StagedFile[],
  options: { overwrite?: boolean } = {},
): Promise<string[]> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (err) {
    throw fsError(err, directory, "creating output directory");
  }
  const staged: { temp: string; final: string }[] = [];
  const placed: string[] = [];
  try {
    for (const file of files) {
      const final = join(directory, file.name);
      const temp = tempSibling(final);
      staged.push({ temp, final });
      await writeAndSync(temp, file.data);
    }
    if (!options.overwrite) {
      const existing = new Set(await readdir(directory));
      const clash = files.find((f) => existing.has(f.name));
      if (clash) {
        throw new ForgeError("OUTPUT_EXISTS", `${join(directory, clash.name)} already exists`, {
          input: join(directory, clash.name),
          fix: "choose another --out directory, remove the file, or pass --force to replace it",
        });
      }
    }
    for (const { temp, final } of staged) {
      await rename(temp, final);
      placed.push(final);
    }
    await fsyncDirectory(directory);
    return placed;
  } catch (err) {
    await Promise.all([...staged.map(({ temp }) => rm(temp, { force: true })), ...placed.map((path) => rm(path, { force: true }))]);
    throw isForgeError(err) ? err : fsError(err, directory, "publishing files");
  }
}
