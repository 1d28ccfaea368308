import { ForgeError } from "@trtforge/core";
import { resolveStoreRoot } from "@trtforge/model-store";

/**
 * The store root from a command's flag, else MODEL_STORE_ROOT, `~` expanded and made absolute
 * (model-store's resolveStoreRoot). Neither given is a missing command-line argument here, so it is
 * USAGE (exit 2), naming the flag.
 */
export function storeRootFromFlag(value: string | undefined, flag: string): string {
  try {
    return resolveStoreRoot(value);
  } catch (err) {
    if (err instanceof ForgeError && err.code === "STORE_ROOT_UNSET") {
      throw new ForgeError("USAGE", `no model store root: pass ${flag} <dir> or set MODEL_STORE_ROOT`, {
        input: flag,
        ...(err.fix === undefined ? {} : { fix: err.fix.replace("--root", flag) }),
        cause: err,
      });
    }
    throw err;
  }
}
