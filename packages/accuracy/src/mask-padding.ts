/**
 * Zeroes the positions of a [batch, sequence, ...] output where attention_mask is 0. Padding
 * carries no meaning and legitimately differs between runtimes and precisions; the exporter's
 * references are zeroed there too, so only real tokens are compared.
 */
export function maskPadding(values: Float32Array, shape: readonly number[], mask: BigInt64Array | undefined, fromRow = 0): Float32Array {
  if (mask === undefined || shape.length < 3) return values;
  const [rows, seq] = [shape[0]!, shape[1]!];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(values);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < seq; t++) {
      if (mask[(fromRow + r) * seq + t] === 0n) out.fill(0, (r * seq + t) * inner, (r * seq + t + 1) * inner);
    }
  }
  return out;
}
