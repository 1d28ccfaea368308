import { randomBytes } from "node:crypto";
import { lstat, readdir, rename, rm, utimes } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError, fsyncDirectory } from "@trtforge/core";
import { emptyTrash, makeSharedDir, pathKind, removeViaTrash, sleep } from "@trtforge/fs-kit";
import { withAgentLock, type AgentLock } from "./lock.js";
import { readManifest, storeFields, writeManifest, type StagingRecord, type WriterIdentity } from "./manifest.js";
import { STAGING_SUFFIX } from "./names.js";
import { CLAIM_PREFIX, MANIFEST_NAME, type AgentPaths } from "./paths.js";
import { currentProcessIdentity, taggedWriterLiveness, writerLiveness, writerTag, type Liveness } from "@trtforge/fs-kit";
import type { StoreSettings } from "./settings.js";
import { isErrno, storeWriteError } from "./store-errors.js";

/** A claim folder lives for milliseconds (mkdir, write record, rename); an untagged one (older trtforge) older than this is debris. */
const CLAIM_MAX_AGE_MS = 60_000;
const HEARTBEAT_MAX_MS = 30_000;

export interface StagingState {
  /** Entry name under versions/: `<version>.tmp`, or `.claim-…` for a staging folder not yet in place. */
  name: string;
  path: string;
  writer?: WriterIdentity;
  liveness: Liveness | "no record";
  lastActivity: string;
  stale: boolean;
  reason: string;
}

function describeWriter(writer: WriterIdentity): string {
  return `pid ${writer.pid} on ${writer.hostname}`;
}

async function newestMtime(path: string): Promise<number> {
  const info = await lstat(path);
  let newest = info.mtimeMs;
  if (info.isDirectory()) {
    for (const name of await readdir(path)) {
      newest = Math.max(newest, await newestMtime(join(path, name)).catch(() => 0));
    }
  }
  return newest;
}

/**
 * Decides whether a staging folder is abandoned. Ours record their writer (pid, host, boot id,
 * process start time) in a staging manifest.json whose mtime is a heartbeat: stale if that writer is
 * gone (same host) or the heartbeat is older than `stagingStaleMs` (any host). Folders without a
 * record (JustNewsAgent's stage_new, or debris) are stale once nothing in them changed for that long.
 */
export async function inspectStaging(path: string, name: string, settings: StoreSettings): Promise<StagingState> {
  const now = Date.now();
  const maxAge = name.startsWith(CLAIM_PREFIX) ? Math.min(settings.stagingStaleMs, CLAIM_MAX_AGE_MS) : settings.stagingStaleMs;
  const read = await readManifest(path);
  const fields = read.state === "ok" ? storeFields(read.manifest.metadata) : undefined;
  const writer = fields?.staging?.writer ?? fields?.publisher;
  if (read.state === "ok" && writer !== undefined) {
    const liveness = await writerLiveness(writer);
    const idle = now - read.mtime.getTime();
    const base = { name, path, writer, liveness, lastActivity: read.mtime.toISOString() };
    if (liveness === "dead") return { ...base, stale: true, reason: `its writer (${describeWriter(writer)}) is gone` };
    if (idle > settings.stagingStaleMs) {
      return {
        ...base,
        stale: true,
        reason: `its writer (${describeWriter(writer)}) has shown no activity for ${Math.round(idle / 1000)} s`,
      };
    }
    return { ...base, stale: false, reason: `being staged by ${describeWriter(writer)}` };
  }
  // A claim's name carries its writer's tag, so a writer killed before its record was written is still judged.
  const tagged = name.startsWith(CLAIM_PREFIX) ? await taggedWriterLiveness(name.slice(CLAIM_PREFIX.length)) : undefined;
  if (tagged === "dead") {
    return {
      name,
      path,
      liveness: "dead",
      lastActivity: new Date(now).toISOString(),
      stale: true,
      reason: "its writer (named in the claim) is gone",
    };
  }
  let newest: number;
  try {
    newest = await newestMtime(path);
  } catch (err) {
    if (isErrno(err, "ENOENT"))
      return { name, path, liveness: "no record", lastActivity: new Date(now).toISOString(), stale: false, reason: "already gone" };
    throw err;
  }
  const idle = now - newest;
  const base = { name, path, liveness: "no record" as const, lastActivity: new Date(newest).toISOString() };
  return idle > maxAge
    ? { ...base, stale: true, reason: `no writer record and untouched for ${Math.round(idle / 1000)} s` }
    : { ...base, stale: false, reason: "no writer record, recently modified (a JustNewsAgent stage_new?)" };
}

export function isStagingName(name: string): boolean {
  return name.endsWith(STAGING_SUFFIX) || name.startsWith(CLAIM_PREFIX);
}

export async function listStaging(paths: AgentPaths, settings: StoreSettings): Promise<StagingState[]> {
  let names: string[];
  try {
    names = await readdir(paths.versionsDir);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
  const states: StagingState[] = [];
  for (const name of names.filter(isStagingName).sort()) {
    states.push(await inspectStaging(join(paths.versionsDir, name), name, settings));
  }
  return states;
}

export interface GarbageReport {
  removedStaging: StagingState[];
  trashEntries: number;
  removedCurrentTemp: boolean;
}

/**
 * Removes what crashed writers left behind. Must run under the agent lock: stale staging is rechecked
 * there (so a folder is never taken from a writer that is still finalizing), and trash and
 * `.current.tmp` only exist outside the lock when their writer died.
 */
export async function collectGarbageLocked(paths: AgentPaths, settings: StoreSettings, lock: AgentLock): Promise<GarbageReport> {
  const removedStaging: StagingState[] = [];
  for (const state of await listStaging(paths, settings)) {
    if (!state.stale) continue;
    lock.assertHeld();
    try {
      await removeViaTrash(state.path, paths.trashDir);
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue;
      throw storeWriteError(err, state.path, "removing stale staging folder", paths.root);
    }
    settings.log.info({ agent: paths.agent, staging: state.name, reason: state.reason }, `removed stale staging folder ${state.name}`);
    removedStaging.push(state);
  }
  const trashEntries = await emptyTrash(paths.trashDir);
  const removedCurrentTemp = (await pathKind(paths.currentTempLink)) !== "missing";
  if (removedCurrentTemp) await rm(paths.currentTempLink, { force: true });
  return { removedStaging, trashEntries, removedCurrentTemp };
}

async function hasGarbage(paths: AgentPaths, settings: StoreSettings): Promise<boolean> {
  if ((await listStaging(paths, settings)).some((s) => s.stale)) return true;
  if ((await pathKind(paths.currentTempLink)) !== "missing") return true;
  try {
    return (await readdir(paths.trashDir)).length > 0;
  } catch {
    return false;
  }
}

/** What the next writer does before staging: take the lock only if there is something to clean. */
export async function cleanStaleStaging(paths: AgentPaths, settings: StoreSettings): Promise<StagingState[]> {
  if (!(await hasGarbage(paths, settings))) return [];
  return withAgentLock(
    paths,
    settings,
    "cleaning stale staging",
    async (lock) => (await collectGarbageLocked(paths, settings, lock)).removedStaging,
  );
}

export interface StagingClaim {
  dir: string;
  version: string;
  record: StagingRecord;
  /** Stops refreshing the heartbeat; call once the folder is finalized or removed. */
  stop(): void;
}

export function versionExistsError(paths: AgentPaths, version: string): ForgeError {
  return new ForgeError("STORE_VERSION_EXISTS", `version "${version}" of agent "${paths.agent}" already exists in ${paths.root}`, {
    input: paths.versionDir(version),
    fix: "published versions are immutable: publish under another version name (model-store publish --version <name>; without it the name is a fresh UTC timestamp)",
  });
}

async function prepareClaim(paths: AgentPaths, version: string, record: StagingRecord): Promise<string> {
  // The writer tag goes first: a version name may itself look like a tag, the prefix position cannot.
  const dir = join(paths.versionsDir, `${CLAIM_PREFIX}${writerTag()}-${randomBytes(4).toString("hex")}-${version}`);
  await makeSharedDir(dir);
  await writeManifest(dir, { version, checksum: "", metadata: { staging: record } });
  await fsyncDirectory(dir);
  return dir;
}

/**
 * Takes `versions/<version>.tmp` for this process. The folder appears already holding its writer
 * record (assembled under a hidden claim name, then renamed), so no staging folder of ours is ever
 * anonymous. If another live writer stages the same version, we wait for it: its success means
 * STORE_VERSION_EXISTS, its failure frees the name; after `lockWaitMs`, STORE_LOCKED.
 */
export async function claimStaging(paths: AgentPaths, version: string, settings: StoreSettings): Promise<StagingClaim> {
  const record: StagingRecord = {
    token: randomBytes(12).toString("hex"),
    writer: currentProcessIdentity(),
    started_at: new Date().toISOString(),
  };
  const target = paths.stagingDir(version);
  const deadline = Date.now() + settings.lockWaitMs;
  let claimDir: string | undefined;
  let announced = false;
  try {
    for (;;) {
      if ((await pathKind(paths.versionDir(version))) !== "missing") throw versionExistsError(paths, version);
      if ((await pathKind(target)) === "missing") {
        claimDir ??= await prepareClaim(paths, version, record);
        try {
          await rename(claimDir, target);
          claimDir = undefined;
          await fsyncDirectory(paths.versionsDir);
          break;
        } catch (err) {
          if (!isErrno(err, "EEXIST", "ENOTEMPTY", "ENOTDIR", "EISDIR")) throw err;
          continue; // another writer renamed its claim in first
        }
      }
      const state = await inspectStaging(target, `${version}${STAGING_SUFFIX}`, settings);
      if (state.stale) {
        await withAgentLock(paths, settings, "cleaning stale staging", (lock) => collectGarbageLocked(paths, settings, lock));
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ForgeError(
          "STORE_LOCKED",
          `version "${version}" of agent "${paths.agent}" is being staged by another writer (${state.reason}, last active ${state.lastActivity})`,
          {
            input: target,
            fix: "wait for that publish to finish (it will then exist, or its staging folder will be gone) and retry; a dead writer's staging is cleaned automatically",
          },
        );
      }
      if (!announced) {
        settings.log.info({ agent: paths.agent, version, staging: target }, `waiting: ${state.reason}`);
        announced = true;
      }
      await sleep(100 + Math.random() * 200);
    }
  } catch (err) {
    throw storeWriteError(err, target, `staging version "${version}"`, paths.root);
  } finally {
    if (claimDir !== undefined) await rm(claimDir, { recursive: true, force: true }).catch(() => undefined);
  }
  // The writer we waited for may have finalized between our two checks; then the name was free again.
  if ((await pathKind(paths.versionDir(version))) !== "missing") {
    await rm(target, { recursive: true, force: true });
    throw versionExistsError(paths, version);
  }
  const manifestPath = join(target, MANIFEST_NAME);
  const beat = setInterval(
    () => {
      const now = new Date();
      utimes(manifestPath, now, now).catch(() => undefined);
    },
    Math.min(HEARTBEAT_MAX_MS, Math.max(250, Math.floor(settings.stagingStaleMs / 4))),
  );
  beat.unref();
  return { dir: target, version, record, stop: () => clearInterval(beat) };
}
