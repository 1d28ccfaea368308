import { sha256Hex } from "@trtforge/core";

/** JSON with keys sorted at every level, so that equal values always hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The content address of a stage: sha256 of everything its output depends on. */
export function contentKey(inputs: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(inputs));
}
