import { lstat, mkdir, readdir, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import bytes from "bytes";
import ms from "ms";
import { ForgeError, type Logger } from "@trtforge/core";
import { taggedWriterLiveness, writerTag } from "@trtforge/fs-kit";
import { STAGE_FILE } from "./stage-dir.js";

/**
 * A work dir budget for finished stages: at most `maxBytes` in all, none unused for longer than
 * `maxAgeMs`. Least recently used stages go first; a stage a running build holds never goes.
 */
export interface WorkBudget {
  maxBytes?: number;
  maxAgeMs?: number;
}

/**
 * What build-engine applies to the default work dir after each build (TRTFORGE_WORK_BUDGET changes
 * it): a few models' exports and calibrations fit in 10 GiB (MiniLM's stages are ~100 MB a build),
 * and a stage unused for 30 days is cheaper to redo than to keep.
 */
export const DEFAULT_WORK_BUDGET: Required<WorkBudget> = { maxBytes: 10 * 1024 ** 3, maxAgeMs: 30 * 24 * 3600 * 1000 };

/** Folders of the work dir that are not stages. */
const NOT_STAGES = new Set(["locks", "holds"]);

export function parseWorkSize(text: string, input: string): number {
  const value = /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|pb|kib|mib|gib|tib|pib)?\s*$/i.test(text)
    ? bytes.parse(text.replace(/ib\s*$/i, "b"))
    : null;
  if (value === null || !Number.isFinite(value) || value < 0) {
    throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not a size`, {
      input,
      fix: "give a size such as 5GiB, 500MiB or 0 (KiB, MiB, GiB, TiB count in 1024s)",
    });
  }
  return Math.floor(value);
}

export function parseWorkAge(text: string, input: string): number {
  const value = /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w|y)\s*$/i.test(text) ? ms(text.trim() as ms.StringValue) : undefined;
  if (value === undefined || !Number.isFinite(value) || value < 0) {
    throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not an age`, {
      input,
      fix: "give a number with a unit: 30d, 12h, 90m (s, m, h, d, w)",
    });
  }
  return value;
}

/**
 * TRTFORGE_WORK_BUDGET: "off", or a size and/or an age separated by a comma ("20GiB", "14d",
 * "20GiB,14d"); unset: the default budget.
 */
export function workBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): WorkBudget | undefined {
  const text = env.TRTFORGE_WORK_BUDGET;
  if (text === undefined || text.trim() === "") return DEFAULT_WORK_BUDGET;
  if (text.trim() === "off") return undefined;
  const budget: WorkBudget = {};
  for (const part of text.split(",").map((p) => p.trim())) {
    if (/^[\d.]+\s*(ms|s|m|h|d|w|y)$/i.test(part)) budget.maxAgeMs = parseWorkAge(part, "TRTFORGE_WORK_BUDGET");
    else budget.maxBytes = parseWorkSize(part, "TRTFORGE_WORK_BUDGET");
  }
  return budget;
}

// --- holds: which stages running builds use -----------------------------------------------------

function holdName(stage: string, key: string): string {
  return `${stage}--${key}--${writerTag()}`;
}

/**
 * Marks `<work>/<stage>/<key>` as used by this process (build) and as just used (its stage.json's
 * mtime is the LRU clock). The hold's name carries the writer's tag, so it counts only while this
 * process lives; gc removes the holds of processes that are gone.
 */
export async function holdStage(workRoot: string, stage: string, key: string): Promise<void> {
  const holds = join(workRoot, "holds");
  await mkdir(holds, { recursive: true });
  await writeFile(join(holds, holdName(stage, key)), "");
  const stageFile = join(workRoot, stage, key, STAGE_FILE);
  const now = new Date();
  await utimes(stageFile, now, now).catch(() => undefined);
}

/** Stages held by live processes ("<stage>/<key>"); removes the holds of processes that are gone. */
async function liveHolds(workRoot: string, dryRun: boolean): Promise<Set<string>> {
  const held = new Set<string>();
  const dir = join(workRoot, "holds");
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return held;
  }
  for (const name of names) {
    const [stage, key] = name.split("--");
    const liveness = await taggedWriterLiveness(name).catch(() => undefined);
    if (liveness === "dead") {
      if (!dryRun) await rm(join(dir, name), { force: true });
      continue;
    }
    // Alive, another host's, or unreadable: held (a budget never guesses a build is gone).
    if (stage !== undefined && key !== undefined) held.add(`${stage}/${key}`);
  }
  return held;
}

// --- the budget -----------------------------------------------------------------------------------

export interface FinishedStage {
  stage: string;
  key: string;
  path: string;
  bytes: number;
  /** When a build last produced or reused it (its stage.json's mtime). */
  lastUsed: string;
}

export interface EvictedStage extends FinishedStage {
  reason: string;
}

export interface BudgetReport {
  workDir: string;
  budget: WorkBudget;
  /** Finished stages before eviction, and their size. */
  stages: number;
  bytesBefore: number;
  bytesAfter: number;
  removed: EvictedStage[];
  /** Over budget but kept because a running build holds them. */
  heldBack: FinishedStage[];
}

async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += await treeBytes(join(path, name)).catch(() => 0);
  return total;
}

/** Every finished stage (`<work>/<stage>/<key>/stage.json`), least recently used first. */
export async function listFinishedStages(workRoot: string): Promise<FinishedStage[]> {
  const found: FinishedStage[] = [];
  let stages: string[];
  try {
    stages = await readdir(workRoot);
  } catch {
    return found;
  }
  for (const stage of stages.filter((s) => !NOT_STAGES.has(s) && !s.startsWith("."))) {
    let keys: string[];
    try {
      keys = await readdir(join(workRoot, stage));
    } catch {
      continue;
    }
    for (const key of keys.filter((k) => !k.startsWith("."))) {
      const path = join(workRoot, stage, key);
      const info = await lstat(join(path, STAGE_FILE)).catch(() => undefined);
      if (info === undefined) continue; // unfinished: the stale-temp rule's business, not the budget's
      found.push({ stage, key, path, bytes: await treeBytes(path), lastUsed: info.mtime.toISOString() });
    }
  }
  return found.sort((a, b) => a.lastUsed.localeCompare(b.lastUsed) || a.path.localeCompare(b.path));
}

function formatBytes(n: number): string {
  return bytes.format(n, { unitSeparator: " " }) ?? `${n} B`;
}

/**
 * Removes finished stages until the work dir meets `budget`: first every stage unused for longer
 * than maxAgeMs, then the least recently used until the total fits maxBytes. A stage a live build
 * holds is never removed. A stage goes by a rename out of its name first, so a build that looks
 * for it sees it complete or not at all, never half removed.
 */
export async function applyWorkBudget(
  workRoot: string,
  budget: WorkBudget,
  log: Logger,
  options: { dryRun?: boolean; now?: number } = {},
): Promise<BudgetReport> {
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? Date.now();
  const stages = await listFinishedStages(workRoot);
  const held = await liveHolds(workRoot, dryRun);
  const bytesBefore = stages.reduce((sum, s) => sum + s.bytes, 0);
  let total = bytesBefore;
  const removed: EvictedStage[] = [];
  const heldBack: FinishedStage[] = [];
  for (const stage of stages) {
    const idleMs = now - Date.parse(stage.lastUsed);
    const tooOld = budget.maxAgeMs !== undefined && idleMs > budget.maxAgeMs;
    const tooBig = budget.maxBytes !== undefined && total > budget.maxBytes;
    if (!tooOld && !tooBig) continue;
    if (held.has(`${stage.stage}/${stage.key}`)) {
      heldBack.push(stage);
      continue;
    }
    const reason = tooOld
      ? `unused for ${Math.round(idleMs / 86_400_000)} d (budget ${ms(budget.maxAgeMs!, { long: true })})`
      : `work dir at ${formatBytes(total)}, over its budget of ${formatBytes(budget.maxBytes!)}; least recently used`;
    if (!dryRun) {
      // A temp name with this writer's tag: if gc is killed mid-removal, the stale-temp rule finishes it.
      const doomed = join(workRoot, stage.stage, `.${stage.key}.tmp-${writerTag()}-evicted`);
      try {
        await rename(stage.path, doomed);
      } catch {
        continue; // gone or replaced meanwhile
      }
      await rm(doomed, { recursive: true, force: true });
      log.info({ removed: stage.path, bytes: stage.bytes, reason }, "removed a finished stage (work dir budget)");
    }
    removed.push({ ...stage, reason });
    total -= stage.bytes;
  }
  return { workDir: workRoot, budget, stages: stages.length, bytesBefore, bytesAfter: total, removed, heldBack };
}
