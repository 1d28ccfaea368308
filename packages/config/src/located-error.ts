import { ForgeError, type ErrorCode } from "@trtforge/core";
import { formatKeyPath, valueAtPath, type KeyPath } from "./key-path.js";
import type { YamlFile } from "./yaml-file.js";
import { locatePath } from "./yaml-position.js";

export interface ProblemText {
  /** Completes "<key path> ...": "is 0", "is missing", "is not a known key". */
  problem: string;
  /** What the key accepts, in words. */
  allowed?: string;
  fix: string;
}

export interface LocatedErrorOptions {
  /** Point at the key of the entry instead of its value (unknown or invalid keys). */
  target?: "key" | "value";
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An error about one key of a YAML file, in the one shape every configuration error has:
 * `<file>:<line>:<col>: <key path> <problem>; allowed: <values>`, with the fix in `fix` (the CLI
 * prints it on its own line).
 */
export function locatedError(
  file: YamlFile,
  code: ErrorCode,
  path: KeyPath,
  text: ProblemText,
  options: LocatedErrorOptions = {},
): ForgeError {
  const { line, col } = locatePath(file, path, options.target);
  const keyPath = formatKeyPath(path);
  const allowed = text.allowed === undefined ? "" : `; allowed: ${text.allowed}`;
  return new ForgeError(code, `${file.path}:${line}:${col}: ${keyPath} ${text.problem}${allowed}`, {
    input: file.path,
    fix: text.fix,
    details: { file: file.path, line, col, key_path: keyPath, ...options.details },
    cause: options.cause,
  });
}

const MAX_SHOWN_VALUE = 80;

/** The value at `path` for a message: as written in the file when possible, so "1e5" stays "1e5". */
export function shownValue(file: YamlFile, path: KeyPath): string {
  const { sourceText } = locatePath(file, path);
  const value = valueAtPath(file.data, path);
  const written = sourceText?.trim() ?? "";
  let text: string;
  if (value === null && written === "") text = "empty";
  else if (written === "") text = JSON.stringify(value) ?? "missing";
  // Quote plain strings so the value stands out from the sentence around it.
  else if (typeof value === "string" && !/^["']/.test(written)) text = JSON.stringify(written);
  else text = written;
  const oneLine = text.replace(/\s*\n\s*/g, " ");
  return oneLine.length > MAX_SHOWN_VALUE ? `${oneLine.slice(0, MAX_SHOWN_VALUE - 3)}...` : oneLine;
}
