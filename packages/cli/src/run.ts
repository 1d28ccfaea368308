import { CommanderError, type Command } from "commander";
import { createLogger, printableLines, toForgeError, type Logger } from "@trtforge/core";
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
    // Commander's own "error: …" line is replaced by ours (below); help and other output pass through.
    command.configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: () => undefined });
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
      if (err.exitCode !== 0) {
        process.stderr.write(`error[USAGE]: ${printableLines(err.message.replace(/^error: /, ""))}\n`);
        process.stderr.write(`  fix: ${usageFix(program, argv)}\n`);
      }
      if (wantsJson && err.exitCode !== 0) {
        process.stdout.write(`${JSON.stringify({ ok: false, error: { code: "USAGE", exit_code: 2, message: err.message } })}\n`);
      }
      return;
    }
    const error = toForgeError(err);
    // Messages quote what the user typed: control characters in it never reach the terminal raw.
    process.stderr.write(`error[${error.code}]: ${printableLines(error.message)}\n`);
    if (error.fix) process.stderr.write(`  fix: ${printableLines(error.fix)}\n`);
    if (error.code === "INTERNAL" && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() })}\n`);
    process.exitCode = error.exitCode;
  }
}

/** "see <program> <subcommand> --help": the help of the command that refused the line. */
function usageFix(program: Command, argv: readonly string[]): string {
  const sub = program.commands.find((c) => argv.slice(2).includes(c.name()));
  return `see ${[program.name(), sub?.name()].filter(Boolean).join(" ")} --help for the options and arguments it takes`;
}

export function cliLogger(name: string): Logger {
  return createLogger({ name, prettyDestination: stderrTerminal });
}
