import { Command } from "commander";
import { defaultWorkRoot, removeStaleStageTemps } from "@trtforge/pipeline";
import { cliLogger } from "./run.js";

/** `build-engine gc`: removes the stage folders that killed runs left in the work dir, and says which. */
export function workGcCommand(): Command {
  return new Command("gc")
    .description("remove the temporary stage folders of build-engine runs that were killed (writer gone), from the work dir")
    .option("--work-dir <dir>", "the work dir (default: $TRTFORGE_WORK_DIR, else $XDG_CACHE_HOME/trtforge or ~/.cache/trtforge)")
    .option("--dry-run", "list what would be removed, remove nothing")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .action(async (opts: { workDir?: string; dryRun?: boolean; json?: boolean }) => {
      const workRoot = opts.workDir ?? defaultWorkRoot();
      const removed = await removeStaleStageTemps(workRoot, cliLogger("build-engine"), { dryRun: opts.dryRun ?? false });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, workDir: workRoot, dryRun: opts.dryRun ?? false, removed }, null, 2)}\n`);
        return;
      }
      const verb = opts.dryRun ? "would remove" : "removed";
      const lines = removed.map((r) => `${verb} ${r.path} (${r.reason})`);
      process.stdout.write(`${lines.length > 0 ? lines.join("\n") : `nothing to remove in ${workRoot}`}\n`);
    });
}
