import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError } from "@trtforge/core";
import { compareCodePoints } from "@trtforge/fs-kit";
import { MANIFEST_NAME } from "./paths.js";
import { isErrno, storeReadError } from "./store-errors.js";

export interface TreeFile {
  /** Path relative to the walked folder, "/"-separated: the bytes the checksum hashes. */
  relPath: string;
  absPath: string;
  size: number;
  /** JustNewsAgent skips every file named manifest.json, at any depth. */
  inChecksum: boolean;
}

export interface WalkOptions {
  /**
   * "skip": a symlink to a folder is ignored, as os.walk(followlinks=False) does (checksums);
   * "error": refuse it (copying a model into the store).
   */
  dirSymlinks: "skip" | "error";
  /** Folder names not descended into at any depth (e.g. ".git" when importing). */
  skipDirNames?: ReadonlySet<string>;
}

function decodeName(raw: Buffer, dir: string): string {
  const name = raw.toString("utf8");
  // Python's checksum encodes names as UTF-8 and fails on undecodable ones; refuse them up front.
  if (!Buffer.from(name, "utf8").equals(raw)) {
    throw new ForgeError("INVALID_NAME", `a file name in ${dir} is not valid UTF-8 (${raw.toString("hex")})`, {
      input: dir,
      fix: "rename the file to a UTF-8 name",
    });
  }
  return name;
}

/**
 * Lists the regular files of a tree in JustNewsAgent checksum order: a folder's files sorted by code
 * point, then each subfolder the same way. The original visits subfolders in OS order (os.walk);
 * sorting them too is our one deliberate difference, so nested trees hash the same everywhere.
 * Symlinks to files count as the file they point to (os.walk lists them as files).
 */
export async function walkTree(root: string, options: WalkOptions): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  const visit = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, encoding: "buffer" });
    } catch (err) {
      throw storeReadError(err, dir, "listing folder");
    }
    const files: { name: string; abs: string; size: number }[] = [];
    const dirs: { name: string; abs: string }[] = [];
    for (const entry of entries) {
      const name = decodeName(entry.name, dir);
      const abs = join(dir, name);
      if (entry.isDirectory()) {
        if (!options.skipDirNames?.has(name)) dirs.push({ name, abs });
        continue;
      }
      if (entry.isFile() || entry.isSymbolicLink()) {
        let info;
        try {
          info = await stat(abs);
        } catch (err) {
          if (isErrno(err, "ENOENT", "ELOOP")) {
            throw new ForgeError("FILE_NOT_FOUND", `${abs} is a symlink to nothing`, {
              input: abs,
              fix: "remove the broken symlink or restore its target",
              cause: err,
            });
          }
          throw storeReadError(err, abs, "reading file");
        }
        if (info.isDirectory()) {
          if (options.dirSymlinks === "error") {
            throw new ForgeError("NOT_A_FILE", `${abs} is a symlink to a folder, which the store does not copy`, {
              input: abs,
              fix: "replace the symlink with a real folder (cp -rL) or remove it",
            });
          }
          continue;
        }
        if (info.isFile()) {
          files.push({ name, abs, size: info.size });
          continue;
        }
      }
      throw new ForgeError("NOT_A_FILE", `${abs} is neither a regular file nor a folder (a socket, FIFO or device?)`, {
        input: abs,
        fix: "remove it from the model folder",
      });
    }
    files.sort((a, b) => compareCodePoints(a.name, b.name));
    dirs.sort((a, b) => compareCodePoints(a.name, b.name));
    for (const file of files) {
      out.push({ relPath: prefix + file.name, absPath: file.abs, size: file.size, inChecksum: file.name !== MANIFEST_NAME });
    }
    for (const sub of dirs) await visit(sub.abs, `${prefix}${sub.name}/`);
  };
  await visit(root, "");
  return out;
}
