import { ForgeError } from "@trtforge/core";
import { readCurrentHistory, rollbackTarget, type CurrentSwitch } from "./current-history.js";
import { removeViaTrash } from "@trtforge/fs-kit";
import type { AgentLock } from "./lock.js";
import type { AgentPaths } from "./paths.js";
import type { StoreSettings } from "./settings.js";
import { isErrno, storeWriteError } from "./store-errors.js";
import { listAgentVersions, previousOf, type AgentListing } from "./versions.js";

/** JustNewsAgent's guidelines: keep about three versions. */
export const DEFAULT_KEEP = 3;

export interface RetentionPlan {
  keep: string[];
  remove: string[];
  /** Versions retention leaves alone because their manifest cannot be read (no trustworthy date). */
  skipped: { version: string; reason: string }[];
}

export function assertKeepCount(keep: number, input = "--keep"): number {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new ForgeError("INVALID_LIMIT", `${input} must be a whole number >= 1, got ${keep}`, {
      input,
      fix: `pass ${input} N with N >= 1 (current and its previous version are always kept as well)`,
    });
  }
  return keep;
}

/**
 * Keeps the `keepCount` newest versions plus, whatever their age, `current` and the version before it
 * (the rollback target). Only versions under versions/ are ever candidates; a legacy folder is not.
 */
export function planRetention(
  paths: AgentPaths,
  listing: AgentListing,
  keepCount: number,
  history: readonly CurrentSwitch[] = [],
): RetentionPlan {
  if (listing.currentProblem === "dangling") {
    throw new ForgeError("STORE_CURRENT_DANGLING", `${paths.currentLink} is dangling, so retention cannot tell which versions must stay`, {
      input: paths.currentLink,
      fix: `repair current first (model-store rollback --agent ${paths.agent} --to <version>), then run gc again`,
    });
  }
  const protectedVersions = new Set<string>();
  const current = listing.current?.layout === "versions" ? listing.current.version : undefined;
  if (current !== undefined) {
    protectedVersions.add(current);
    const previous = previousOf(listing.versions, current);
    if (previous !== undefined) protectedVersions.add(previous.version);
    // Where the history makes rollback go elsewhere (after a promote), that version stays too.
    const target = rollbackTarget(history, current, listing.versions);
    if (target !== undefined) protectedVersions.add(target.version);
  }
  const newestFirst = listing.versions.filter((v) => v.layout === "versions").reverse();
  for (const version of newestFirst.slice(0, keepCount)) protectedVersions.add(version.version);
  const plan: RetentionPlan = { keep: [], remove: [], skipped: [] };
  for (const version of newestFirst) {
    if (protectedVersions.has(version.version)) plan.keep.push(version.version);
    else if (version.manifest !== "ok")
      plan.skipped.push({
        version: version.version,
        reason: `manifest ${version.manifest}${version.manifestProblem ? `: ${version.manifestProblem}` : ""}`,
      });
    else plan.remove.push(version.version);
  }
  return plan;
}

/** Plans from a fresh listing taken under the lock and removes what the plan says. */
export async function applyRetentionLocked(
  paths: AgentPaths,
  settings: StoreSettings,
  keepCount: number,
  lock: AgentLock,
): Promise<RetentionPlan> {
  const listing = await listAgentVersions(paths, { includeStaging: false, settings });
  const plan = planRetention(paths, listing, keepCount, await readCurrentHistory(paths));
  for (const version of plan.remove) {
    lock.assertHeld();
    try {
      await removeViaTrash(paths.versionDir(version), paths.trashDir);
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue;
      throw storeWriteError(err, paths.versionDir(version), `removing old version "${version}"`, paths.root);
    }
    settings.log.info({ agent: paths.agent, version }, `removed old version ${version}`);
  }
  return plan;
}
