import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError } from "@trtforge/core";
import { resolveStoreRoot } from "@trtforge/model-store";

const STORE_ROOT_FIX = "pass --store-root <folder> (or set MODEL_STORE_ROOT) to an existing, writable ModelStore root";

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function assertWritable(path: string, what: string, root: string): Promise<void> {
  try {
    await access(path, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ForgeError(
      "STORE_READ_ONLY",
      `${what} ${path} is not writable here (${errno(err) ?? String(err)}): the build could not be published`,
      {
        input: root,
        fix: `mount the store read-write, add this user to the store's group, or ${STORE_ROOT_FIX}`,
        cause: err,
      },
    );
  }
}

/**
 * Checks, in milliseconds and before any stage runs, that the build can be published: the root is
 * given, exists, is a folder, and it (and the engine agent's folder and lock, when they exist) can
 * be written. Returns the absolute root. Waiting for a live writer's lock stays publish's business.
 */
export async function checkStoreWritable(storeRoot: string | undefined, agent: string | undefined): Promise<string> {
  let root: string;
  try {
    root = resolveStoreRoot(storeRoot);
  } catch (err) {
    if (!(err instanceof ForgeError && err.code === "STORE_ROOT_UNSET")) throw err;
    throw new ForgeError(
      "STORE_ROOT_UNSET",
      "no ModelStore root to publish the build into: --store-root is not given and MODEL_STORE_ROOT is not set",
      { input: "--store-root", fix: STORE_ROOT_FIX, cause: err },
    );
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (err) {
    if (errno(err) === "ENOENT") {
      throw new ForgeError("FILE_NOT_FOUND", `the ModelStore root ${root} does not exist`, {
        input: root,
        fix: `create it (mkdir -p ${root}, group-writable for a shared store), or ${STORE_ROOT_FIX}`,
      });
    }
    if (errno(err) !== "ENOTDIR")
      throw new ForgeError("FILE_UNREADABLE", `cannot read the ModelStore root ${root}: ${String(err)}`, {
        input: root,
        fix: STORE_ROOT_FIX,
        cause: err,
      });
    isDirectory = false;
  }
  if (!isDirectory)
    throw new ForgeError("NOT_A_DIRECTORY", `the ModelStore root ${root} is a file, not a folder`, { input: root, fix: STORE_ROOT_FIX });
  await assertWritable(root, "the ModelStore root", root);
  if (agent !== undefined) {
    for (const [path, what] of [
      [join(root, agent), "the agent folder"],
      [join(root, agent, "versions"), "the versions folder"],
    ] as const) {
      const exists = await stat(path).then(
        (s) => s,
        () => undefined,
      );
      if (exists === undefined) break;
      if (!exists.isDirectory())
        throw new ForgeError("NOT_A_DIRECTORY", `${what} ${path} is a file, not a folder`, {
          input: path,
          fix: "move the file away; the store needs <root>/<agent>/versions/ to be folders",
        });
      // The agent's lock is a folder created inside the agent folder: writable agent folder, obtainable lock.
      await assertWritable(path, what, root);
    }
  }
  return root;
}
