/** A path into a parsed YAML value, as zod reports it: map keys and list indexes. */
export type KeyPath = readonly PropertyKey[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Writes a key path the way a user would point at it: `models[0].max_batch_size`. Keys that are
 * not plain identifiers (engine file names hold dots) are quoted: `engines["a.b.engine"]`.
 */
export function formatKeyPath(path: KeyPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else {
      const key = String(segment);
      if (PLAIN_KEY.test(key)) text += text === "" ? key : `.${key}`;
      else text += `[${JSON.stringify(key)}]`;
    }
  }
  return text === "" ? "(document root)" : text;
}

/** The value at `path` inside plain parsed data, or undefined when any step is missing. */
export function valueAtPath(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}
