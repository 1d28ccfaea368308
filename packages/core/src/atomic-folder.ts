import { chmod, mkdtemp, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** The prefix of a folder being filled: `.<name>.tmp-`, which work-dir cleanup recognizes. */
export function tempFolderPrefix(target: string): string {
  return `.${basename(target).slice(0, 12)}.tmp-`;
}

/**
 * Fills a temporary sibling of `target` and renames it into place only when `fill` succeeds, so a
 * crash, an error or Ctrl-C leaves either nothing or a complete folder; on failure the temporary
 * folder is removed. With `replace`, an existing `target` is removed just before the rename.
 */
export async function writeFolderAtomic<T>(
  target: string,
  fill: (tempDir: string) => Promise<T>,
  options: {
    replace: boolean;
    /** mkdtemp prefix of the temporary sibling; callers that tag it with its writer pass their own. */
    tempPrefix?: string;
  },
): Promise<T> {
  const temp = await mkdtemp(join(dirname(target), options.tempPrefix ?? tempFolderPrefix(target)));
  try {
    const result = await fill(temp);
    // mkdtemp makes the folder private; the result is shared like every other artifact.
    await chmod(temp, 0o755);
    if (options.replace) await rm(target, { recursive: true, force: true });
    await rename(temp, target);
    return result;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}
