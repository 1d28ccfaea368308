import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import lockfile from "proper-lockfile";
import { ForgeError, type Logger } from "@trtforge/core";
import { sleep } from "./fs-util.js";
import { isErrno } from "./errno.js";

export interface WaitLockOptions {
  /** Said once in the log while waiting, e.g. "an identical build is running in /work". */
  waitingFor: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** A holder that stops refreshing the lock for this long (killed) loses it. Default 10 s. */
  staleMs?: number;
}

/**
 * Runs `fn` holding the mkdir lock `lockPath` (proper-lockfile, the same mechanism as the agent
 * lock), waiting as long as a live holder keeps it. For work that is safe without the lock but
 * wasteful twice: a lost lock (this process stalled past the stale time) is logged, not fatal.
 */
export async function withWaitLock<T>(lockPath: string, options: WaitLockOptions, fn: () => Promise<T>): Promise<T> {
  const staleMs = options.staleMs ?? 10_000;
  await mkdir(dirname(lockPath), { recursive: true });
  let release: (() => Promise<void>) | undefined;
  let announced = false;
  while (release === undefined) {
    if (options.signal?.aborted)
      throw new ForgeError("CANCELLED", `cancelled while waiting: ${options.waitingFor}`, { fix: "run the command again" });
    try {
      release = await lockfile.lock(dirname(lockPath), {
        lockfilePath: lockPath,
        realpath: false,
        stale: staleMs,
        update: Math.max(1_000, Math.floor(staleMs / 5)),
        retries: 0,
        onCompromised: (err) =>
          options.logger.warn({ lock: lockPath, reason: err.message }, "lost the build lock; an identical run may now repeat work"),
      });
    } catch (err) {
      if (!isErrno(err, "ELOCKED")) throw err;
      if (!announced) {
        options.logger.info({ lock: lockPath }, `waiting: ${options.waitingFor}`);
        announced = true;
      }
      await sleep(200 + Math.random() * 300);
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
