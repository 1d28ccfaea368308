import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "@trtforge/core";

/** `.<out>.triton-export-<pid>-`: a repository being written beside `out` by process <pid>. */
export function stagingPrefix(out: string): string {
  return `.${basename(out)}.triton-export-${process.pid}-`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what killed exports left beside `out` (their staging folders and half-swapped old
 * repositories), recognized by name and a writer process that no longer runs.
 */
export async function cleanStaleStaging(out: string, logger: Logger | undefined): Promise<string[]> {
  const parent = dirname(out);
  const pattern = new RegExp(`^\\.${basename(out).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.triton-export-(\\d+)-[0-9a-f]+(\\.old)?$`);
  const removed: string[] = [];
  for (const entry of await readdir(parent)) {
    const match = pattern.exec(entry);
    if (match === null || isAlive(Number(match[1]))) continue;
    await rm(join(parent, entry), { recursive: true, force: true });
    removed.push(entry);
    logger?.info({ removed: join(parent, entry) }, "removed the staging folder of an export that did not finish");
  }
  return removed;
}
