import { join } from "node:path";
import { Command } from "commander";
import { execa } from "execa";
import { ForgeError, projectRoot } from "@trtforge/core";

/** `build-engine setup`: creates or repairs the pinned Python environment (scripts/setup-python.sh). */
export function setupCommand(): Command {
  return new Command("setup")
    .description("Create the pinned Python environment for the export stage (.venv, versions of python/requirements.lock)")
    .option("--with-tests", "also install the Python test dependencies")
    .action(async (opts: { withTests?: boolean }) => {
      const script = join(projectRoot(), "scripts/setup-python.sh");
      const result = await execa("bash", [script, ...(opts.withTests ? ["--with-tests"] : [])], {
        stdio: ["ignore", "pipe", "inherit"],
        reject: false,
      });
      if (result.exitCode !== 0) {
        throw new ForgeError("PYTHON_UNAVAILABLE", `${script} failed with status ${String(result.exitCode)}`, {
          fix: "read its output above; it needs python3.11 with pip and access to PyPI",
        });
      }
      process.stdout.write(`${result.stdout.trim()}\n`);
    });
}
