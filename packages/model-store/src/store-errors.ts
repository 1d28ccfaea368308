import { ForgeError, fsError, isForgeError } from "@trtforge/core";
import { errnoCode, isErrno } from "@trtforge/fs-kit";

// isErrno is the toolkit's; re-exported for the store's modules, which import it from here.
export { isErrno };

/**
 * Maps a failure while changing the store. Permission and read-only errors become STORE_READ_ONLY,
 * because the fix is about the store as a whole (mount, group, --root), not about one file.
 */
export function storeWriteError(err: unknown, path: string, action: string, root: string): ForgeError {
  if (isForgeError(err)) return err;
  switch (errnoCode(err)) {
    case "EROFS":
    case "EACCES":
    case "EPERM":
      return new ForgeError("STORE_READ_ONLY", `${action}: the model store ${root} is not writable here (${errnoCode(err)} on ${path})`, {
        input: root,
        fix: "mount the store read-write, add this user to the store's group (the store is meant to be g+rwX), or pass --root to a writable store",
        cause: err,
      });
    case "ENOTDIR":
      return new ForgeError("NOT_A_DIRECTORY", `${action}: a component of ${path} is a file, not a folder`, {
        input: path,
        fix: `check that the store root ${root} and the agent folder are folders`,
        cause: err,
      });
    case "ENOSPC":
    case "EDQUOT":
      return new ForgeError("IO_FAILED", `${action}: no space left for ${path}`, {
        input: path,
        fix: "free space on the store's filesystem (model-store gc --keep N removes old versions)",
        cause: err,
      });
    default:
      return fsError(err, path, action);
  }
}

export function storeReadError(err: unknown, path: string, action: string): ForgeError {
  return isForgeError(err) ? err : fsError(err, path, action);
}
