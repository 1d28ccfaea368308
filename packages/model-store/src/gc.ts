import { readdir } from "node:fs/promises";
import { compareCodePoints } from "@trtforge/fs-kit";
import { agentNotFound, readCurrentState } from "./current.js";
import { isDirectory } from "@trtforge/fs-kit";
import { readCurrentHistory } from "./current-history.js";
import { withAgentLock } from "./lock.js";
import { assertStoreName, isValidStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { applyRetentionLocked, assertKeepCount, DEFAULT_KEEP, planRetention, type RetentionPlan } from "./retention.js";
import { storeSettings, type StoreOptions, type StoreSettings } from "./settings.js";
import { collectGarbageLocked, listStaging, type StagingState } from "./staging.js";
import { requireRoot } from "./store-root.js";
import { listAgentVersions } from "./versions.js";

export interface GcOptions extends StoreOptions {
  /** One agent; default: every agent under the root. */
  agent?: string;
  /** Versions to keep besides current and its previous one (default 3). */
  keep?: number;
  /** Report what would be removed, change nothing. */
  dryRun?: boolean;
}

export interface AgentGcReport {
  agent: string;
  /** Stale staging folders removed (or, in a dry run, that would be). */
  staleStaging: StagingState[];
  /** Staging folders of live writers, left alone. */
  activeStaging: StagingState[];
  retention: RetentionPlan;
  trashEntries: number;
  removedCurrentTemp: boolean;
}

export interface GcReport {
  dryRun: boolean;
  keep: number;
  agents: AgentGcReport[];
}

async function agentsUnder(settings: StoreSettings): Promise<AgentPaths[]> {
  const found: AgentPaths[] = [];
  for (const name of (await readdir(settings.root)).filter(isValidStoreName).sort(compareCodePoints)) {
    const paths = new AgentPaths(settings.root, name);
    if (await isDirectory(paths.versionsDir)) found.push(paths);
  }
  return found;
}

async function planAgent(paths: AgentPaths, settings: StoreSettings, keep: number): Promise<AgentGcReport> {
  const listing = await listAgentVersions(paths, { includeStaging: true, settings });
  return {
    agent: paths.agent,
    staleStaging: listing.staging.filter((s) => s.stale),
    activeStaging: listing.staging.filter((s) => !s.stale),
    retention: planRetention(paths, listing, keep, await readCurrentHistory(paths)),
    trashEntries: 0,
    removedCurrentTemp: false,
  };
}

/**
 * Removes crashed writers' staging folders and trash, then applies retention. Every agent is planned
 * first, so a problem anywhere (a dangling current, a bad name) stops gc before anything is removed.
 */
export async function gc(options: GcOptions = {}): Promise<GcReport> {
  const keep = assertKeepCount(options.keep ?? DEFAULT_KEEP, "keep");
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  let targets: AgentPaths[];
  if (options.agent !== undefined) {
    const paths = new AgentPaths(settings.root, assertStoreName("agent", options.agent));
    if ((await readCurrentState(paths)).state === "no-agent") throw agentNotFound(paths);
    targets = [paths];
  } else {
    targets = await agentsUnder(settings);
  }
  const plans: AgentGcReport[] = [];
  for (const paths of targets) plans.push(await planAgent(paths, settings, keep));
  if (options.dryRun) return { dryRun: true, keep, agents: plans };
  const reports: AgentGcReport[] = [];
  for (const paths of targets) {
    if (!(await isDirectory(paths.versionsDir))) {
      reports.push(await planAgent(paths, settings, keep));
      continue;
    }
    reports.push(
      await withAgentLock(paths, settings, "gc", async (lock) => {
        const garbage = await collectGarbageLocked(paths, settings, lock);
        const retention = await applyRetentionLocked(paths, settings, keep, lock);
        return {
          agent: paths.agent,
          staleStaging: garbage.removedStaging,
          activeStaging: (await listStaging(paths, settings)).filter((s) => !s.stale),
          retention,
          trashEntries: garbage.trashEntries,
          removedCurrentTemp: garbage.removedCurrentTemp,
        };
      }),
    );
  }
  return { dryRun: false, keep, agents: reports };
}
