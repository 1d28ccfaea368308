import { pino, type Logger, type LoggerOptions } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerSettings {
  level?: string;
  /** Force JSON lines (true) or human-readable lines (false); default: JSON unless stderr is a TTY. */
  json?: boolean;
  name?: string;
  /**
   * Where human-readable lines go (default stderr). A CLI that draws progress bars passes the
   * writer that owns the terminal, so a log line is never printed into a bar.
   */
  prettyDestination?: NodeJS.WritableStream;
}

/**
 * Logs go to stderr so that stdout stays clean for `--json` results that machines read.
 * Human-readable output is chosen only for an interactive terminal; CI and pipes get JSON lines.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const level = settings.level ?? process.env.LOG_LEVEL ?? "info";
  const json = settings.json ?? !process.stderr.isTTY;
  const options: LoggerOptions = { level, base: settings.name === undefined ? null : { name: settings.name } };
  if (json) return pino(options, pino.destination({ fd: 2, sync: true }));
  return pino(
    options,
    // singleLine: a record's fields on its own line, never a multi-line object between other output.
    pretty({
      destination: settings.prettyDestination ?? 2,
      sync: true,
      colorize: true,
      singleLine: true,
      translateTime: "SYS:HH:MM:ss",
      ignore: "pid,hostname,name",
    }),
  );
}

/** A logger that drops everything; for library callers and tests that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
