import { cosine } from "@trtforge/core";
import type { ModelKind, OutputTensor } from "@trtforge/runtime";

/** How a candidate's answer to one request compares with the primary's, row by row. */
export interface RowComparison {
  /** Classifiers: labels equal. */
  agree?: boolean;
  primaryLabel?: string;
  candidateLabel?: string;
  /** Classifiers: |Δ| of the probability of the primary's winning class. */
  confidenceDelta?: number;
  /** Embeddings: cosine similarity of the two rows. */
  cosine?: number;
}

const EMBEDDING_OUTPUTS = ["sentence_embedding", "embeddings", "pooler_output"];

function find(outputs: readonly OutputTensor[], name: string): OutputTensor | undefined {
  return outputs.find((tensor) => tensor.name === name);
}

/** The [rows, dim] FP32 output an embedding model is read by: a known name, else the first of rank 2. */
function embeddingOf(outputs: readonly OutputTensor[]): Extract<OutputTensor, { datatype: "FP32" }> | undefined {
  const named = EMBEDDING_OUTPUTS.map((name) => find(outputs, name)).find((tensor) => tensor !== undefined);
  const tensor = named ?? outputs.find((t) => t.datatype === "FP32" && t.shape.length === 2);
  return tensor?.datatype === "FP32" && tensor.shape.length === 2 ? tensor : undefined;
}

/**
 * Row-by-row comparison of two answers to the same texts: classifiers by label and by the
 * probability of the primary's winning class, embeddings by cosine. Rows the outputs do not
 * cover (a different row count, a missing output) give no comparison: undefined.
 */
export function compareOutputs(
  kind: ModelKind,
  primary: readonly OutputTensor[],
  candidate: readonly OutputTensor[],
): RowComparison[] | undefined {
  if (kind === "classification") {
    const labels = [find(primary, "label"), find(candidate, "label")];
    const probs = [find(primary, "probabilities"), find(candidate, "probabilities")];
    const [pl, cl] = labels;
    const [pp, cp] = probs;
    if (pl?.datatype !== "BYTES" || cl?.datatype !== "BYTES" || pl.data.length !== cl.data.length) return undefined;
    const rows = pl.data.length;
    const classes = pp?.shape[1] ?? 0;
    const comparable =
      pp?.datatype === "FP32" && cp?.datatype === "FP32" && cp.shape[1] === classes && pp.shape[0] === rows && cp.shape[0] === rows;
    return Array.from({ length: rows }, (_, r) => {
      const row: RowComparison = { agree: pl.data[r] === cl.data[r], primaryLabel: pl.data[r]!, candidateLabel: cl.data[r]! };
      if (comparable) {
        const p = pp.data.subarray(r * classes, (r + 1) * classes);
        const c = cp.data.subarray(r * classes, (r + 1) * classes);
        let win = 0;
        for (let k = 1; k < classes; k += 1) if (p[k]! > p[win]!) win = k;
        row.confidenceDelta = Math.abs(p[win]! - c[win]!);
      }
      return row;
    });
  }
  const a = embeddingOf(primary);
  const b = embeddingOf(candidate);
  if (a === undefined || b === undefined || a.shape.join() !== b.shape.join()) return undefined;
  const [rows = 0, dim = 0] = a.shape;
  return Array.from({ length: rows }, (_, r) => ({
    cosine: cosine(a.data.subarray(r * dim, (r + 1) * dim), b.data.subarray(r * dim, (r + 1) * dim)),
  }));
}
