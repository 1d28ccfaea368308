import { CommanderError, type Command } from "commander";
import { createLogger, toForgeError, type Logger } from "@trtforge/core";
import { stderrTerminal } from "./terminal.js";

/**
 * Runs a commander program with the conventions every trtforge command shares:
 * - usage errors (unknown option, missing argument) exit 2;
 * - a ForgeError prints `error[CODE]: message`, its fix, and exits with the code's exit status;
 *   with `--json` on the command line the error is also printed to stdout as `{ok:false, error}`;
 * - anything else is an internal error (exit 70).
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  // Subcommands made before this call do not inherit the override: apply it to every command.
  const applyConventions = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeErr: (text) => process.stderr.write(text) });
    command.commands.forEach(applyConventions);
  };
  applyConventions(program);
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version come through here too, with exit code 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      if (wantsJson && err.exitCode !== 0) {
        process.stdout.write(`${JSON.stringify({ ok: false, error: { code: "USAGE", exit_code: 2, message: err.message } })}\n`);
      }
      return;
    }
    const error = toForgeError(err);
    process.stderr.write(`error[${error.code}]: ${error.message}\n`);
    if (error.fix) process.stderr.write(`  fix: ${error.fix}\n`);
    if (error.code === "INTERNAL" && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() })}\n`);
    process.exitCode = error.exitCode;
  }
}

export function cliLogger(name: string): Logger {
  return createLogger({ name, prettyDestination: stderrTerminal });
}
