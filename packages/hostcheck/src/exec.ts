import { execa } from "execa";
import type { ExecOptions, ExecResult } from "./host-deps.js";

/** Runs a command without throwing: every way it can end is folded into an ExecResult. */
export async function execCommand(file: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeoutMs,
    stdin: "ignore",
    stripFinalNewline: true,
  });
  const stdout = typeof result.stdout === "string" ? result.stdout : "";
  const stderr = typeof result.stderr === "string" ? result.stderr : "";
  if (result.code === "ENOENT") return { exitCode: null, stdout, stderr, notFound: true };
  if (result.timedOut) return { exitCode: null, stdout, stderr, timedOut: true };
  if (result.exitCode === undefined) {
    // Spawn refused (EACCES on a directory or non-executable file) or killed by a signal.
    const why = typeof result.shortMessage === "string" ? result.shortMessage : `${file} did not exit normally`;
    return { exitCode: null, stdout, stderr: stderr === "" ? why : `${why}\n${stderr}` };
  }
  return { exitCode: result.exitCode, stdout, stderr };
}
