import { lstat, readdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { tempFolderPrefix, type Logger } from "@trtforge/core";
import { taggedWriterLiveness, writerTag } from "@trtforge/fs-kit";

/** An untagged temp folder (made before stage folders named their writer) counts as abandoned after this long untouched. */
export const UNTAGGED_STALE_MS = 60 * 60 * 1000;

/**
 * Where stage results are kept: $TRTFORGE_WORK_DIR, else the user's cache ($XDG_CACHE_HOME/trtforge,
 * or ~/.cache/trtforge): never the current directory, where it would land untracked in a checkout.
 */
export function defaultWorkRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.TRTFORGE_WORK_DIR;
  if (explicit !== undefined && explicit !== "") return resolve(explicit);
  // The XDG spec ignores a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  const cache = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".cache");
  return join(cache, "trtforge");
}

/**
 * mkdtemp prefix of a stage's temporary folder: the writer's tag (pid, start time, host) is in the
 * name, so the folder says whose it is from the instant it exists and a killed run's is recognised.
 */
export function stageTempPrefix(stageDir: string): string {
  return `${tempFolderPrefix(stageDir)}${writerTag()}-`;
}

const TEMP_NAME = /^\..+\.tmp-/;

export interface StaleTemp {
  path: string;
  reason: string;
}

async function newestMtime(path: string): Promise<number> {
  const info = await lstat(path);
  let newest = info.mtimeMs;
  if (info.isDirectory()) {
    for (const name of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, name)).catch(() => 0));
  }
  return newest;
}

async function whyStale(path: string, name: string, now: number): Promise<string | undefined> {
  const liveness = await taggedWriterLiveness(name);
  if (liveness === "dead") return "its run is gone";
  if (liveness !== undefined) return undefined; // alive, or from another host: left to its writer
  const idle = now - (await newestMtime(path));
  return idle > UNTAGGED_STALE_MS ? `no writer in its name and untouched for ${Math.round(idle / 60_000)} min` : undefined;
}

/** The `<work>/<stage>/.<key>.tmp-*` folders of runs that are gone (the store's liveness rule: pid and process start). */
export async function findStaleStageTemps(workRoot: string): Promise<StaleTemp[]> {
  let stages: string[];
  try {
    stages = await readdir(workRoot);
  } catch {
    return [];
  }
  const now = Date.now();
  const stale: StaleTemp[] = [];
  for (const stage of stages.sort()) {
    let names: string[];
    try {
      names = await readdir(join(workRoot, stage));
    } catch {
      continue; // a file, or gone
    }
    for (const name of names.filter((n) => TEMP_NAME.test(n)).sort()) {
      const path = join(workRoot, stage, name);
      const reason = await whyStale(path, name, now).catch(() => undefined);
      if (reason !== undefined) stale.push({ path, reason });
    }
  }
  return stale;
}

/** Removes what killed runs left in the work dir; what it removed, for the log or `build-engine gc`. */
export async function removeStaleStageTemps(workRoot: string, log: Logger, options: { dryRun?: boolean } = {}): Promise<StaleTemp[]> {
  const stale = await findStaleStageTemps(workRoot);
  if (options.dryRun) return stale;
  for (const s of stale) {
    await rm(s.path, { recursive: true, force: true });
    log.info({ removed: s.path, reason: s.reason }, "removed a stale stage folder");
  }
  return stale;
}

/** The lock identical runs sharing a work dir take, so that the second waits and then reuses. */
export function buildLockPath(workRoot: string, requestKey: string): string {
  return join(workRoot, "locks", `${requestKey.slice(0, 32)}.lock`);
}
