import { execa } from "execa";

export interface ExecOptions {
  timeoutMs: number;
}

/**
 * How a command ended. A missing binary is a finding (no driver, no Python), not a failure of the
 * check, so it comes back as `notFound` instead of being thrown.
 */
export interface ExecResult {
  /** null when the command did not exit on its own: not found, timed out, killed, not spawnable. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  notFound?: boolean;
  timedOut?: boolean;
}

export type Exec = (file: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;

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
