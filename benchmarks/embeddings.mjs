// Embedding files the benchmarks' floor children write (--emb: float32 rows, back to back) and
// their comparison with a reference.
import { readFile } from "node:fs/promises";

/** A file of float32 values as one array. */
export async function readF32(path) {
  const b = await readFile(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** Cosine of each row of `a` against the same row of `b` (rows of `dim` values). */
export function rowCosines(a, b, dim) {
  const out = [];
  for (let r = 0; r < a.length / dim; r++) {
    let dot = 0,
      na = 0,
      nb = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) {
      dot += a[k] * b[k];
      na += a[k] * a[k];
      nb += b[k] * b[k];
    }
    out.push(dot / Math.sqrt(na * nb));
  }
  return out;
}
