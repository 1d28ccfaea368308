import type { ErrorCode, ForgeError } from "@trtforge/core";
import type { core } from "zod";
import { closestNames, editDistance } from "./closest-names.js";
import { formatKeyPath, valueAtPath, type KeyPath } from "./key-path.js";
import { locatedError, shownValue } from "./located-error.js";
import type { YamlFile } from "./yaml-file.js";
import { locatePath } from "./yaml-position.js";

/** What a value accepts and the code of an error about it. */
export interface ValueRule {
  code: ErrorCode;
  /** What the value accepts, in words; also its JSON Schema description. */
  allowed: string;
  /** What to do about a bad value; default "set <key path> to <allowed>". */
  fix?: string;
}

/** How a configuration key is described to the user and which error code a bad value gets. */
export interface FieldRule extends ValueRule {
  /** For a list: what one element accepts and the code of a bad element. */
  element?: ValueRule;
}

export interface SchemaRules {
  /** The rule for the value at `path` (for a list item, the element's rule). */
  ruleFor(path: KeyPath): ValueRule | undefined;
  /** The keys a mapping at `path` may hold, to suggest the intended one for a typo. */
  knownKeys(path: KeyPath): readonly string[];
}

/**
 * Looks rules up by the last key name in the path, so one rule serves a key wherever it appears
 * (defaults.min_seq_len and models[3].min_seq_len); trailing list indexes select the element rule.
 */
export function rulesByKeyName(fields: Readonly<Record<string, FieldRule>>): (path: KeyPath) => ValueRule | undefined {
  return (path) => {
    const keyIndex = path.findLastIndex((segment) => typeof segment === "string");
    const rule = keyIndex < 0 ? undefined : fields[String(path[keyIndex])];
    if (rule === undefined) return undefined;
    return keyIndex < path.length - 1 && rule.element ? rule.element : rule;
  };
}

/** A custom zod issue may carry, in its params, the error code it stands for and its own fix. */
export interface ForgeIssueParams {
  forgeCode?: ErrorCode;
  fix?: string;
}

type Issue = core.$ZodIssue;

/**
 * Turns zod's issues into one ForgeError about the issue nearest the top of the file (the one a
 * user would fix first); every issue's message is kept in `details.problems`. Missing keys come
 * last: a misspelt key shows up both as unknown and as missing, and the unknown one says the fix.
 */
export function schemaError(file: YamlFile, issues: readonly Issue[], rules: SchemaRules): ForgeError {
  const located = issues
    .map((issue) => ({ missing: isMissingKey(file, issue), error: issueError(file, issue, rules) }))
    .map((entry) => ({ ...entry, line: Number(entry.error.details?.line), col: Number(entry.error.details?.col) }))
    .sort((a, b) => Number(a.missing) - Number(b.missing) || a.line - b.line || a.col - b.col);
  const first = located[0]!.error;
  if (located.length > 1) {
    (first.details as Record<string, unknown>).problems = located.map((entry) => entry.error.message);
  }
  return first;
}

function isMissingKey(file: YamlFile, issue: Issue): boolean {
  return issue.code === "invalid_type" && valueAtPath(file.data, issue.path) === undefined && !locatePath(file, issue.path).exact;
}

function issueError(file: YamlFile, issue: Issue, rules: SchemaRules): ForgeError {
  if (issue.code === "unrecognized_keys") return unknownKeyError(file, issue.path, issue.keys, rules);
  const path = issue.path;
  const keyPath = formatKeyPath(path);
  const rule = rules.ruleFor(path);
  const allowed = rule?.allowed ?? issue.message;

  if (isMissingKey(file, issue)) {
    const parent = path.slice(0, -1);
    const key = String(path[path.length - 1]);
    const where = parent.length === 0 ? "at the top level" : `under ${formatKeyPath(parent)}`;
    return locatedError(file, "CONFIG_INVALID", path, { problem: "is missing", allowed, fix: `add "${key}:" ${where}` });
  }

  const params = issue.code === "custom" ? (issue.params as ForgeIssueParams | undefined) : undefined;
  const code = params?.forgeCode ?? rule?.code ?? "CONFIG_INVALID";
  const value = valueAtPath(file.data, path);
  const shown = shownValue(file, path);
  const problem = issue.code === "custom" ? `is ${shown}: ${issue.message}` : `is ${shown}`;
  // A sha of digits or a version like 10.16 reads as a number unless quoted.
  const numberForText =
    issue.code === "invalid_type" && issue.expected === "string" && (typeof value === "number" || typeof value === "boolean");
  const fix = numberForText
    ? `write the value in quotes, ${JSON.stringify(shown)}, so YAML reads it as text`
    : (params?.fix ?? rule?.fix ?? `set ${keyPath} to ${allowed}`);
  return locatedError(file, code, path, { problem, allowed, fix });
}

function unknownKeyError(file: YamlFile, path: KeyPath, keys: readonly string[], rules: SchemaRules): ForgeError {
  const key = keys[0]!;
  const known = rules.knownKeys(path);
  const [closest] = closestNames(key, known, 1);
  // Only suggest a rename when the key looks like a misspelling, not an unrelated word.
  const looksMisspelt = closest !== undefined && editDistance(key, closest) <= Math.max(2, Math.floor(closest.length / 2));
  const fix = looksMisspelt ? `rename it to "${closest}" (or remove it)` : "remove it";
  return locatedError(
    file,
    "CONFIG_INVALID",
    [...path, key],
    { problem: "is not a known key", allowed: known.join(", "), fix },
    { target: "key", details: { unknown_keys: keys } },
  );
}
