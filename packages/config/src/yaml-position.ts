import { isMap, isNode, isScalar, isSeq, type Document, type Node } from "yaml";
import type { KeyPath } from "./key-path.js";
import type { YamlFile } from "./yaml-file.js";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export interface PathLocation extends SourcePosition {
  /** False when the path does not exist in the document and the position is its nearest parent's. */
  exact: boolean;
  /** The text of the node as written in the file, when the path exists. */
  sourceText: string | undefined;
}

interface PathNodes {
  valueNode: Node | undefined;
  keyNode: Node | undefined;
  exact: boolean;
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

/** Follows a key path (as zod reports it) through the parsed document as far as it exists. */
function nodesAtPath(document: Document.Parsed, path: KeyPath): PathNodes {
  let valueNode: Node | undefined = isNode(document.contents) ? document.contents : undefined;
  let keyNode: Node | undefined;
  for (const [index, segment] of path.entries()) {
    if (isMap(valueNode)) {
      const pair = valueNode.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) return { valueNode, keyNode, exact: false };
      keyNode = isNode(pair.key) ? pair.key : undefined;
      // `key:` with nothing after it has no value node; the key then stands for the value.
      valueNode = isNode(pair.value) ? pair.value : undefined;
      if (!valueNode) return { valueNode, keyNode, exact: index === path.length - 1 };
    } else if (isSeq(valueNode) && typeof segment === "number") {
      const item = valueNode.items[segment];
      if (!isNode(item)) return { valueNode, keyNode, exact: false };
      keyNode = undefined;
      valueNode = item;
    } else {
      return { valueNode, keyNode, exact: false };
    }
  }
  return { valueNode, keyNode, exact: true };
}

/**
 * The line and column of the node at `path` (a zod issue path such as ["models", 0,
 * "max_batch_size"]), or of its nearest existing parent when the key is missing. `target: "key"`
 * points at the key of a mapping entry rather than its value (for unknown or invalid keys).
 */
export function locatePath(file: YamlFile, path: KeyPath, target: "key" | "value" = "value"): PathLocation {
  const { valueNode, keyNode, exact } = nodesAtPath(file.document, path);
  const node = target === "key" ? (keyNode ?? valueNode) : (valueNode ?? keyNode);
  const range = node?.range;
  const offset = range ? range[0] : 0;
  const { line, col } = file.lineCounter.linePos(offset);
  const sourceText = exact && range ? file.text.slice(range[0], range[1]) : undefined;
  return { line, col, exact, sourceText };
}

export interface DuplicateKey {
  /** Path of the repeated key. */
  path: PropertyKey[];
  /** Offset of the key's first occurrence. */
  firstOffset: number;
}

/** Finds the mapping key whose repetition starts at `offset`, and where it first appeared. */
export function findDuplicateKey(document: Document.Parsed, offset: number): DuplicateKey | undefined {
  const search = (node: unknown, path: PropertyKey[]): DuplicateKey | undefined => {
    if (isMap(node)) {
      for (const [index, pair] of node.items.entries()) {
        const key = keyText(pair.key);
        if (key !== undefined && isNode(pair.key) && pair.key.range?.[0] === offset) {
          const first = node.items.slice(0, index).find((p) => keyText(p.key) === key);
          const firstOffset = isNode(first?.key) ? first.key.range?.[0] : undefined;
          if (firstOffset !== undefined) return { path: [...path, key], firstOffset };
        }
        const found = search(pair.value, [...path, key ?? "?"]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = search(item, [...path, index]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return search(document.contents, []);
}
