import { Command } from "commander";
import { applyWorkBudget, defaultWorkRoot, parseWorkAge, parseWorkSize, removeStaleStageTemps, type WorkBudget } from "@trtforge/pipeline";
import { cliLogger } from "./run.js";

interface GcOptions {
  workDir?: string;
  maxSize?: string;
  maxAge?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `build-engine gc`: removes the stage folders that killed runs left in the work dir and, given a
 * budget, the least recently used finished stages beyond it; says which.
 */
export function workGcCommand(): Command {
  return new Command("gc")
    .description(
      "remove the temporary stage folders of killed build-engine runs and, with --max-size/--max-age, finished stages beyond that budget (least recently used first, never one a running build holds)",
    )
    .option("--work-dir <dir>", "the work dir (default: $TRTFORGE_WORK_DIR, else $XDG_CACHE_HOME/trtforge or ~/.cache/trtforge)")
    .option("--max-size <size>", "keep finished stages within this size, e.g. 5GiB (least recently used go first)")
    .option("--max-age <age>", "remove finished stages unused for longer than this, e.g. 14d")
    .option("--dry-run", "list what would be removed, remove nothing")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .action(async (opts: GcOptions) => {
      // Both parsed before anything is removed.
      const budget: WorkBudget = {
        ...(opts.maxSize === undefined ? {} : { maxBytes: parseWorkSize(opts.maxSize, "--max-size") }),
        ...(opts.maxAge === undefined ? {} : { maxAgeMs: parseWorkAge(opts.maxAge, "--max-age") }),
      };
      const workRoot = opts.workDir ?? defaultWorkRoot();
      const log = cliLogger("build-engine");
      const dryRun = opts.dryRun ?? false;
      const removed = await removeStaleStageTemps(workRoot, log, { dryRun });
      const hasBudget = budget.maxBytes !== undefined || budget.maxAgeMs !== undefined;
      const evicted = hasBudget ? await applyWorkBudget(workRoot, budget, log, { dryRun }) : undefined;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, workDir: workRoot, dryRun, removed, budget: evicted ?? null }, null, 2)}\n`);
        return;
      }
      const verb = dryRun ? "would remove" : "removed";
      const lines = [
        ...removed.map((r) => `${verb} ${r.path} (${r.reason})`),
        ...(evicted?.removed ?? []).map((r) => `${verb} ${r.path}: ${r.reason}`),
        ...(evicted?.heldBack ?? []).map((h) => `kept ${h.path}: a running build holds it`),
      ];
      process.stdout.write(`${lines.length > 0 ? lines.join("\n") : `nothing to remove in ${workRoot}`}\n`);
      if (evicted !== undefined) {
        process.stdout.write(`finished stages: ${evicted.stages}, ${evicted.bytesBefore} bytes before, ${evicted.bytesAfter} after\n`);
      }
    });
}
