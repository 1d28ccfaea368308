import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "@trtforge/core";
import type { AgentLock } from "./lock.js";
import type { AgentPaths } from "./paths.js";
import { isErrno } from "./store-errors.js";

/**
 * `<agent>/current-history.json`: the last switches of `current`, oldest first, so that `rollback`
 * undoes the last switch (a promote of an old version included) instead of going by publication
 * time. A file beside `versions/` and `current`, which JustNewsAgent's ModelStore never reads: its
 * readers are unaffected. Written only under the agent lock, atomically.
 */
export const CURRENT_HISTORY_FILE = "current-history.json";
/** Enough to undo a day of operator mistakes; older switches fall off. */
export const CURRENT_HISTORY_LIMIT = 50;

export type SwitchCause = "publish" | "promote" | "rollback" | "rollback-to";

const SwitchSchema = z.object({
  /** The version current named before (null: none, or a folder outside versions/). */
  from: z.string().nullable(),
  to: z.string(),
  at: z.string(),
  by: z.enum(["publish", "promote", "rollback", "rollback-to"]),
});
export type CurrentSwitch = z.infer<typeof SwitchSchema>;

const HistorySchema = z.object({ format: z.literal(1), switches: z.array(SwitchSchema) });

export function currentHistoryPath(paths: AgentPaths): string {
  return join(paths.agentDir, CURRENT_HISTORY_FILE);
}

/** The recorded switches; none when the file is missing or unreadable (a store written by JustNewsAgent, or damage). */
export async function readCurrentHistory(paths: AgentPaths): Promise<CurrentSwitch[]> {
  let text: string;
  try {
    text = await readFile(currentHistoryPath(paths), "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
  try {
    const parsed = HistorySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.switches : [];
  } catch {
    return [];
  }
}

/** Appends one switch; runs under the agent lock, right after `current` was switched. */
export async function recordCurrentSwitch(
  paths: AgentPaths,
  entry: Omit<CurrentSwitch, "at">,
  lock: AgentLock,
  now = new Date(),
): Promise<void> {
  const switches = [...(await readCurrentHistory(paths)), { ...entry, at: now.toISOString() }].slice(-CURRENT_HISTORY_LIMIT);
  lock.assertHeld();
  await writeFileAtomic(currentHistoryPath(paths), `${JSON.stringify({ format: 1, switches }, null, 2)}\n`);
}

/**
 * The versions `rollback` returns to, most recent first: replaying the switches, each switch made
 * by publish, promote or `rollback --to` remembers the version it replaced, and each plain rollback
 * consumes the last one remembered (so rollback twice goes back two steps, as an undo does).
 * Trusted only while its last switch is the one that made `current` what it is: a switch nobody
 * recorded (JustNewsAgent's, a hand-made symlink) makes it say nothing.
 */
export function rollbackCandidates(switches: readonly CurrentSwitch[], current: string): string[] {
  const last = switches.at(-1);
  if (last === undefined || last.to !== current) return [];
  const stack: (string | null)[] = [];
  for (const s of switches) {
    // A rollback that skipped removed versions consumed them too: pop down to the one it went to.
    if (s.by === "rollback") while (stack.length > 0 && stack.pop() !== s.to);
    else stack.push(s.from);
  }
  return stack.reverse().filter((v): v is string => v !== null && v !== current);
}

export interface RollbackTarget {
  version: string;
  /** "history": undoes the last recorded switch; "publication": the version published before current. */
  basis: "history" | "publication";
}

/**
 * Where a plain `rollback` goes from `current`: the last version `current` was switched away from
 * that still exists, or, where the history says nothing (JustNewsAgent's stores, a switch nobody
 * recorded, history used up), the version published before it.
 */
export function rollbackTarget(
  switches: readonly CurrentSwitch[],
  current: string,
  ordered: readonly { version: string; layout: string }[],
): RollbackTarget | undefined {
  const published = ordered.filter((v) => v.layout === "versions").map((v) => v.version);
  const recorded = rollbackCandidates(switches, current).find((v) => published.includes(v));
  if (recorded !== undefined) return { version: recorded, basis: "history" };
  const index = published.indexOf(current);
  return index > 0 ? { version: published[index - 1]!, basis: "publication" } : undefined;
}
