import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ForgeError, fsError, projectRoot } from "@trtforge/core";
import semver from "semver";

/** One row of the table in toolchain_versions.md. */
export interface ToolchainEntry {
  component: string;
  pinned: string;
  /** A semver range, with `\|` already unescaped to `|`. */
  accepted: string;
  lastExercised: string;
  how: string;
  /** 1-based line of the row in the file, for messages that send the reader there. */
  line: number;
}

/** Component name (as written between backticks) to its row. */
export type Toolchain = ReadonlyMap<string, ToolchainEntry>;

export const TOOLCHAIN_FILE = "toolchain_versions.md";

const COLUMNS = ["component", "pinned", "accepted", "last exercised", "how"] as const;

const ROW_SHAPE = "| `component` | pinned | accepted semver range | last exercised | how |, a `|` inside a cell written as `\\|`";

export function defaultToolchainPath(): string {
  return join(projectRoot(), TOOLCHAIN_FILE);
}

export function readToolchain(path: string = defaultToolchainPath()): Toolchain {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const cause = fsError(err, path, "reading the toolchain versions");
    throw new ForgeError("TOOLCHAIN_UNREADABLE", cause.message, {
      input: path,
      fix: `restore ${TOOLCHAIN_FILE} from the repository (git checkout -- ${TOOLCHAIN_FILE}), or set TRTFORGE_ROOT to the repository root`,
      cause,
    });
  }
  return parseToolchain(text, path);
}

/** Parses the first table whose header starts with `component`; `path` only names the source in errors. */
export function parseToolchain(text: string, path: string): Toolchain {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => isTableLine(l) && splitCells(l)[0]?.toLowerCase() === "component");
  if (headerIndex < 0) {
    throw unreadable(
      path,
      undefined,
      `${path} has no table whose first column is "component"`,
      `add the table back: a header | ${COLUMNS.join(" | ")} |, a |---| separator, then one row per component as ${ROW_SHAPE}`,
    );
  }
  const header = splitCells(lines[headerIndex]!).map((c) => c.toLowerCase());
  if (header.length !== COLUMNS.length || header.some((c, i) => c !== COLUMNS[i])) {
    throw unreadable(
      path,
      headerIndex + 1,
      `${path}:${headerIndex + 1}: the table header is | ${header.join(" | ")} |, expected | ${COLUMNS.join(" | ")} |`,
      `make line ${headerIndex + 1} of ${path} read | ${COLUMNS.join(" | ")} | (no extra columns)`,
    );
  }
  const separator = lines[headerIndex + 1];
  if (separator === undefined || !isTableLine(separator) || !splitCells(separator).every((c) => /^:?-+:?$/.test(c))) {
    throw unreadable(
      path,
      headerIndex + 2,
      `${path}:${headerIndex + 2}: the line after the table header is not a |---| separator`,
      `put |---|---|---|---|---| on line ${headerIndex + 2} of ${path}`,
    );
  }

  const entries = new Map<string, ToolchainEntry>();
  for (let i = headerIndex + 2; i < lines.length && isTableLine(lines[i]!); i++) {
    const entry = parseRow(lines[i]!, i + 1, path);
    const previous = entries.get(entry.component);
    if (previous) {
      throw unreadable(
        path,
        entry.line,
        `${path}:${entry.line}: \`${entry.component}\` is listed twice (also on line ${previous.line})`,
        `keep one row for \`${entry.component}\` in ${path}`,
      );
    }
    entries.set(entry.component, entry);
  }
  if (entries.size === 0) {
    throw unreadable(
      path,
      headerIndex + 1,
      `${path}:${headerIndex + 1}: the toolchain table has no rows`,
      `add one row per component under the header, as ${ROW_SHAPE}`,
    );
  }
  return entries;
}

function parseRow(text: string, line: number, path: string): ToolchainEntry {
  const where = `${path}:${line}`;
  const rowFix = `rewrite line ${line} of ${path} as ${ROW_SHAPE}`;
  const cells = splitCells(text);
  if (cells.length !== COLUMNS.length) {
    throw unreadable(path, line, `${where}: the row has ${cells.length} cells, expected ${COLUMNS.length} (${COLUMNS.join(", ")})`, rowFix);
  }
  const [componentCell, pinned, accepted, lastExercised, how] = cells as [string, string, string, string, string];
  const component = /^`([^`]+)`$/.exec(componentCell)?.[1]?.trim();
  if (!component) {
    throw unreadable(path, line, `${where}: the component cell "${componentCell}" is not a name in backticks`, rowFix);
  }
  if (pinned === "") {
    throw unreadable(
      path,
      line,
      `${where}: \`${component}\` has an empty "pinned" cell`,
      `write the pinned version (or "not required") on line ${line} of ${path}`,
    );
  }
  // validRange("") is "*": an empty cell must not silently accept everything.
  if (accepted === "" || semver.validRange(accepted) === null) {
    throw unreadable(
      path,
      line,
      `${where}: \`${component}\` has the accepted range "${accepted}", which is not a valid semver range`,
      `write a semver range such as ^1.2.0, ~3.11.0, >=12.0.0 or 1.2.3 on line ${line} of ${path}, with || written as \\|\\|`,
    );
  }
  return { component, pinned, accepted, lastExercised, how, line };
}

function isTableLine(text: string): boolean {
  return text.trimStart().startsWith("|");
}

/** Splits a markdown table row on unescaped pipes; `\|` becomes a literal `|` inside its cell. */
function splitCells(text: string): string[] {
  const cells: string[] = [];
  let current = "";
  const body = text.trim();
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "\\" && body[i + 1] === "|") {
      current += "|";
      i++;
    } else if (ch === "|") {
      cells.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  cells.push(current);
  // The outer pipes leave an empty piece on each side; a row without a closing pipe keeps its last cell.
  if (body.startsWith("|")) cells.shift();
  if (body.endsWith("|") && !body.endsWith("\\|")) cells.pop();
  return cells.map((c) => c.trim());
}

function unreadable(path: string, line: number | undefined, message: string, fix: string): ForgeError {
  return new ForgeError("TOOLCHAIN_UNREADABLE", message, {
    input: path,
    fix,
    ...(line === undefined ? {} : { details: { line } }),
  });
}
