import { ForgeError } from "@trtforge/core";

/**
 * The check every stage boundary and long loop makes: once the run's signal is aborted (Ctrl-C,
 * SIGTERM) the build stops there with CANCELLED. Nothing of it is published: the stage's temporary
 * folder is removed by the stage writer on the way out, and no check follows the publish decision.
 */
export function throwIfCancelled(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted !== true) return;
  throw new ForgeError("CANCELLED", `build cancelled ${where}: nothing was published and current did not move`, {
    fix: "run the same command again; finished stages are reused from the work dir",
  });
}
