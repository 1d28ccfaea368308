import { readFile } from "node:fs/promises";
import { ForgeError, fsError } from "@trtforge/core";
import { LineCounter, parseDocument, type Document, type YAMLError } from "yaml";
import { formatKeyPath } from "./key-path.js";
import { findDuplicateKey } from "./yaml-position.js";

/** A YAML file read and parsed, kept with what is needed to point errors at lines. */
export interface YamlFile {
  /** The path as the caller gave it; error messages start with it. */
  path: string;
  text: string;
  document: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain data (maps become objects). */
  data: unknown;
}

/**
 * Reads and parses one YAML document. `action` says what the file is read for ("reading models
 * config") and starts filesystem error messages. Duplicate keys are errors, not "last one wins",
 * so a key repeated by a merge or a copy-paste cannot silently change the configuration.
 */
export async function readYamlFile(path: string, action: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fsError(err, path, action);
  }
  return parseYamlText(path, text);
}

/** Parses YAML text that was read from `path`; split out so the parse errors are testable alone. */
export function parseYamlText(path: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  // prettyErrors off: the messages are built here, with the file name, in the tool's own format.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = [...document.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (firstError) throw yamlError(path, document, lineCounter, firstError);
  let data: unknown;
  try {
    data = document.toJS();
  } catch (err) {
    // toJS refuses documents whose aliases would expand without bound ("billion laughs").
    throw new ForgeError("YAML_MALFORMED", `${path}:1:1: the YAML cannot be expanded: ${(err as Error).message}`, {
      input: path,
      fix: "remove the anchors (&name) and aliases (*name) or use fewer of them",
      cause: err,
    });
  }
  return { path, text, document, lineCounter, data };
}

function yamlError(path: string, document: Document.Parsed, lineCounter: LineCounter, error: YAMLError): ForgeError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const location = `${path}:${line}:${col}`;
  const details = { file: path, line, col, yaml_code: error.code };
  if (error.code === "DUPLICATE_KEY") {
    const duplicate = findDuplicateKey(document, error.pos[0]);
    const keyPath = duplicate ? formatKeyPath(duplicate.path) : "a key";
    const firstLine = duplicate ? lineCounter.linePos(duplicate.firstOffset).line : undefined;
    const fix = "keep one of the two entries and delete the other (YAML keys must be unique within a mapping)";
    return new ForgeError(
      "DUPLICATE_KEY",
      `${location}: duplicate key: ${keyPath} is already set${firstLine === undefined ? "" : ` at line ${firstLine}`}`,
      { input: path, fix, details: { ...details, key_path: keyPath, first_line: firstLine }, cause: error },
    );
  }
  const fix =
    error.code === "MULTIPLE_DOCS"
      ? 'keep a single YAML document: remove the "---" separator and what follows it'
      : "correct the YAML syntax at this position (check indentation, brackets, quotes and the space after each colon)";
  return new ForgeError("YAML_MALFORMED", `${location}: YAML syntax error: ${error.message}`, {
    input: path,
    fix,
    details,
    cause: error,
  });
}
