import { readFile, rm, writeFile } from "node:fs/promises";
import lockfile from "proper-lockfile";
import { ForgeError } from "@trtforge/core";
import { sleep } from "@trtforge/fs-kit";
import type { AgentPaths } from "./paths.js";
import { currentProcessIdentity } from "@trtforge/fs-kit";
import type { StoreSettings } from "./settings.js";
import { isErrno, storeWriteError } from "./store-errors.js";

export interface AgentLock {
  /** Throws STORE_LOCKED if the lock was lost (this process stalled past the stale time and another writer broke it). */
  assertHeld(): void;
}

async function describeHolder(paths: AgentPaths): Promise<string> {
  try {
    const owner = JSON.parse(await readFile(paths.lockOwnerFile, "utf8")) as {
      pid?: number;
      hostname?: string;
      since?: string;
      action?: string;
    };
    return ` (last recorded holder: pid ${owner.pid} on ${owner.hostname}, ${owner.action ?? "writing"} since ${owner.since})`;
  } catch {
    return "";
  }
}

/**
 * Runs `fn` holding the agent's inter-process lock: proper-lockfile's mkdir lock on `<agent>/.lock`,
 * which is atomic on local filesystems and NFS. The holder refreshes the lock's mtime; a lock not
 * refreshed for `lockStaleMs` (a crashed holder) is broken by the next waiter. A live holder that
 * keeps it longer than `lockWaitMs` makes us give up with STORE_LOCKED. The agent folder must exist.
 */
export async function withAgentLock<T>(
  paths: AgentPaths,
  settings: StoreSettings,
  action: string,
  fn: (lock: AgentLock) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + settings.lockWaitMs;
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  let announced = false;
  let delay = 25;
  while (release === undefined) {
    try {
      release = await lockfile.lock(paths.agentDir, {
        lockfilePath: paths.lockDir,
        realpath: false,
        stale: settings.lockStaleMs,
        update: Math.max(1_000, Math.floor(settings.lockStaleMs / 5)),
        retries: 0,
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      if (!isErrno(err, "ELOCKED")) throw storeWriteError(err, paths.lockDir, `locking agent "${paths.agent}"`, paths.root);
      const holder = await describeHolder(paths);
      if (Date.now() >= deadline) {
        throw new ForgeError(
          "STORE_LOCKED",
          `agent "${paths.agent}" in ${paths.root} is locked by another writer${holder}; gave up after ${Math.round(settings.lockWaitMs / 1000)} s`,
          {
            input: paths.lockDir,
            fix: `wait for the other publish/gc/rollback to finish and retry, or raise the wait (--lock-wait). A crashed holder's lock is broken automatically ${Math.round(settings.lockStaleMs / 1000)} s after its last refresh`,
          },
        );
      }
      if (!announced) {
        settings.log.info({ agent: paths.agent, lock: paths.lockDir }, `waiting for the lock on agent "${paths.agent}"${holder}`);
        announced = true;
      }
      // Jittered backoff so that many waiters do not retry in lockstep.
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())) * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 500);
    }
  }
  const lock: AgentLock = {
    assertHeld: () => {
      if (compromised !== undefined) {
        throw new ForgeError("STORE_LOCKED", `lost the lock on agent "${paths.agent}": ${compromised.message}`, {
          input: paths.lockDir,
          fix: "this process stalled longer than the lock's stale time and another writer took over; retry the command",
          cause: compromised,
        });
      }
    },
  };
  try {
    // Only for the messages of waiting writers (a torn one is simply not shown); the lock itself is the folder.
    await writeFile(paths.lockOwnerFile, JSON.stringify({ ...currentProcessIdentity(), action, since: new Date().toISOString() })).catch(
      () => undefined,
    );
    return await fn(lock);
  } finally {
    if (compromised === undefined) await rm(paths.lockOwnerFile, { force: true }).catch(() => undefined);
    await release().catch(() => undefined);
  }
}
