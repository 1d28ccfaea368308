import { join } from "node:path";
import { execa } from "execa";
import { projectRoot } from "@trtforge/core";

/** One stdout line read as a protocol message, or why it is not one. */
export type LineReading<M> = { ok: true; message: M } | { ok: false; reason: string };

export interface PythonChildOptions<M> {
  python: string;
  /** Everything after the interpreter: `-m <module> ...`. */
  args: readonly string[];
  /** Where the project's Python modules are; default python/ in the project. */
  pythonPath?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  parseLine(line: string): LineReading<M>;
  onMessage(message: M): void;
}

/** How the child ended; each caller turns it into its own errors. */
export interface PythonChildOutcome {
  canceled: boolean;
  timedOut: boolean;
  exitCode: number | undefined;
  signal: string | undefined;
  /** The last 16 KiB of stderr, trimmed: enough for a traceback, bounded for a chatty child. */
  stderr: string;
  /** Why each stdout line that was not a protocol message was refused. */
  unexpected: string[];
}

/**
 * Runs one of the project's Python modules offline (no hub, no telemetry) with JSON lines on
 * stdout, handing each message to onMessage as it arrives; the child is killed on timeout and on
 * abort (Ctrl-C), and never inherits stdin.
 */
export async function runPythonChild<M>(o: PythonChildOptions<M>): Promise<PythonChildOutcome> {
  const child = execa(o.python, [...o.args], {
    cwd: projectRoot(),
    env: {
      PYTHONPATH: o.pythonPath ?? join(projectRoot(), "python"),
      PYTHONUNBUFFERED: "1",
      HF_HUB_OFFLINE: "1",
      TRANSFORMERS_OFFLINE: "1",
      HF_DATASETS_OFFLINE: "1",
    },
    reject: false,
    timeout: o.timeoutMs,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    forceKillAfterDelay: 5_000,
    buffer: false,
    stdin: "ignore",
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-16 * 1024);
  });
  const unexpected: string[] = [];
  for await (const line of child.iterable({ from: "stdout" })) {
    const text = String(line).trim();
    if (text === "") continue;
    const reading = o.parseLine(text);
    if (reading.ok) o.onMessage(reading.message);
    else unexpected.push(reading.reason);
  }
  const result = await child;
  return {
    canceled: result.isCanceled,
    timedOut: result.timedOut,
    exitCode: result.exitCode,
    signal: result.signal,
    stderr: stderr.trim(),
    unexpected,
  };
}
