import type { EncodedBatch } from "../src/index.js";

export type IdField = "input_ids" | "attention_mask" | "token_type_ids";
export const ID_FIELDS: readonly IdField[] = ["input_ids", "attention_mask", "token_type_ids"];

/** One row of ids per article, in article order. */
export type IdRows = number[][];

export interface Mismatch {
  field: IdField;
  article: number;
  /** Index in the row; a row that ended is shown as undefined. */
  position: number;
  ours: number | undefined;
  theirs: number | undefined;
  text: string;
}

function arrayOf(batch: EncodedBatch, field: IdField): BigInt64Array | undefined {
  return field === "input_ids" ? batch.inputIds : field === "attention_mask" ? batch.attentionMask : batch.tokenTypeIds;
}

/** The rows of several batches, one after the other; undefined when the batches lack the field. */
export function rowsOf(batches: readonly EncodedBatch[], field: IdField): IdRows | undefined {
  const rows: IdRows = [];
  for (const batch of batches) {
    const values = arrayOf(batch, field);
    if (values === undefined) return undefined;
    for (let row = 0; row < batch.batchSize; row++) {
      rows.push(Array.from(values.subarray(row * batch.seqLen, (row + 1) * batch.seqLen), Number));
    }
  }
  return rows;
}

export function firstMismatch(field: IdField, ours: IdRows, theirs: IdRows, texts: readonly string[]): Mismatch | undefined {
  for (let article = 0; article < Math.max(ours.length, theirs.length); article++) {
    const a = ours[article] ?? [];
    const b = theirs[article] ?? [];
    for (let position = 0; position < Math.max(a.length, b.length); position++) {
      if (a[position] !== b[position])
        return { field, article, position, ours: a[position], theirs: b[position], text: texts[article] ?? "" };
    }
  }
  return undefined;
}

export function describeMismatch(m: Mismatch): string {
  const show = (id: number | undefined) => (id === undefined ? "(row ended)" : String(id));
  return `${m.field} differ at article ${m.article}, position ${m.position}: ours ${show(m.ours)}, Hugging Face ${show(m.theirs)}; text: ${JSON.stringify(m.text)}`;
}
