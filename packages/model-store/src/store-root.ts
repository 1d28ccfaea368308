import { mkdir, stat } from "node:fs/promises";
import { ForgeError } from "@trtforge/core";
import { applyMode, DIR_MODE, makeSharedDir } from "@trtforge/fs-kit";
import type { AgentPaths } from "./paths.js";
import { isErrno, storeWriteError } from "./store-errors.js";

function rootNotADirectory(root: string): ForgeError {
  return new ForgeError("NOT_A_DIRECTORY", `the model store root ${root} is a file, not a folder`, {
    input: root,
    fix: "pass --root (or set MODEL_STORE_ROOT) to a folder",
  });
}

/** For readers: the root must already be a folder; nothing is created. */
export async function requireRoot(root: string): Promise<void> {
  try {
    if ((await stat(root)).isDirectory()) return;
  } catch (err) {
    if (isErrno(err, "ENOENT")) {
      throw new ForgeError("FILE_NOT_FOUND", `the model store root ${root} does not exist`, {
        input: root,
        fix: "check --root / MODEL_STORE_ROOT, or publish a first version there",
      });
    }
    if (!isErrno(err, "ENOTDIR")) throw storeWriteError(err, root, "opening the model store", root);
  }
  throw rootNotADirectory(root);
}

/** For writers: creates the root (as JustNewsAgent's ModelStore does), the agent and versions/ folders. */
export async function ensureAgentDirs(paths: AgentPaths): Promise<void> {
  try {
    const existing = await stat(paths.root).catch((err: unknown) => {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    });
    if (existing === undefined) {
      await mkdir(paths.root, { recursive: true });
      await applyMode(paths.root, DIR_MODE);
    } else if (!existing.isDirectory()) {
      throw rootNotADirectory(paths.root);
    }
    await makeSharedDir(paths.agentDir);
    await makeSharedDir(paths.versionsDir);
  } catch (err) {
    if (isErrno(err, "ENOTDIR") || isErrno(err, "EEXIST")) {
      throw new ForgeError("NOT_A_DIRECTORY", `${paths.agentDir} or its versions/ folder is a file, not a folder`, {
        input: paths.agentDir,
        fix: "move the file away; the store needs <root>/<agent>/versions/ to be folders",
        cause: err,
      });
    }
    throw storeWriteError(err, paths.agentDir, `preparing agent "${paths.agent}"`, paths.root);
  }
}
