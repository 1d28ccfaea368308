import type { OutputTensor, TokenRows } from "./contract.js";

/** Token rows re-laid at a longer sequence length, padded on the right (pad id, attention 0, type 0). */
export function padRows(tokens: TokenRows, seqLen: number, padId: bigint): TokenRows {
  if (seqLen === tokens.seqLen) return tokens;
  return mergeRows([tokens], seqLen, padId);
}

/** Several requests' rows as one batch at `seqLen` (at least each one's own), right-padded. */
export function mergeRows(parts: readonly TokenRows[], seqLen: number, padId: bigint): TokenRows {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const withTypes = parts.some((p) => p.tokenTypeIds !== undefined);
  const inputIds = new BigInt64Array(rows * seqLen).fill(padId);
  const attentionMask = new BigInt64Array(rows * seqLen);
  const tokenTypeIds = withTypes ? new BigInt64Array(rows * seqLen) : undefined;
  let row = 0;
  for (const part of parts) {
    for (let r = 0; r < part.rows; r++, row++) {
      const from = r * part.seqLen;
      const to = row * seqLen;
      inputIds.set(part.inputIds.subarray(from, from + part.seqLen), to);
      attentionMask.set(part.attentionMask.subarray(from, from + part.seqLen), to);
      if (tokenTypeIds !== undefined && part.tokenTypeIds !== undefined)
        tokenTypeIds.set(part.tokenTypeIds.subarray(from, from + part.seqLen), to);
    }
  }
  return { rows, seqLen, inputIds, attentionMask, ...(tokenTypeIds === undefined ? {} : { tokenTypeIds }) };
}

/**
 * Rows [first, first + count) of an output whose first dimension is the batch. A [batch, seq, ...]
 * output of a merged batch is cut back to the request's own sequence length, so a request gets the
 * same tensor it would have got alone.
 */
export function sliceRows(tensor: OutputTensor, first: number, count: number, ownSeqLen: number, batchSeqLen: number): OutputTensor {
  const perRow = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  const cutSeq = tensor.shape.length >= 3 && tensor.shape[1] === batchSeqLen && ownSeqLen < batchSeqLen;
  // A request that is the whole batch (the usual case without a batching delay) takes it as it is.
  if (!cutSeq && first === 0 && count === tensor.shape[0]) return tensor;
  if (!cutSeq) {
    const shape = [count, ...tensor.shape.slice(1)];
    const start = first * perRow;
    const end = start + count * perRow;
    if (tensor.datatype === "BYTES") return { name: tensor.name, datatype: "BYTES", shape, data: tensor.data.slice(start, end) };
    if (tensor.datatype === "FP32") return { name: tensor.name, datatype: "FP32", shape, data: tensor.data.slice(start, end) };
    return { name: tensor.name, datatype: "INT64", shape, data: tensor.data.slice(start, end) };
  }
  const inner = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  const shape = [count, ownSeqLen, ...tensor.shape.slice(2)];
  const take = <T extends Float32Array | BigInt64Array>(data: T, out: T): T => {
    for (let r = 0; r < count; r++) {
      const from = (first + r) * perRow;
      out.set(data.subarray(from, from + ownSeqLen * inner) as never, r * ownSeqLen * inner);
    }
    return out;
  };
  const size = count * ownSeqLen * inner;
  if (tensor.datatype === "FP32") return { name: tensor.name, datatype: "FP32", shape, data: take(tensor.data, new Float32Array(size)) };
  if (tensor.datatype === "INT64") return { name: tensor.name, datatype: "INT64", shape, data: take(tensor.data, new BigInt64Array(size)) };
  return tensor;
}

/** Row r alone, cut to its own length: up to its last attended token (rows are right-padded). */
export function rowAlone(tokens: TokenRows, r: number): TokenRows {
  const mask = tokens.attentionMask.subarray(r * tokens.seqLen, (r + 1) * tokens.seqLen);
  const length = Math.max(1, mask.findLastIndex((m) => m !== 0n) + 1);
  const cut = (data: BigInt64Array) => data.slice(r * tokens.seqLen, r * tokens.seqLen + length);
  return {
    rows: 1,
    seqLen: length,
    inputIds: cut(tokens.inputIds),
    attentionMask: cut(tokens.attentionMask),
    ...(tokens.tokenTypeIds === undefined ? {} : { tokenTypeIds: cut(tokens.tokenTypeIds) }),
  };
}

/** One-row outputs stacked into a batch; per-token outputs ([1, own length, ...]) zero-padded to seqLen. */
export function stackRows(perRow: readonly OutputTensor[][], lengths: readonly number[], seqLen: number): OutputTensor[] {
  return perRow[0]!.map((first, j) => {
    const parts = perRow.map((outputs) => outputs[j]!);
    const perToken = first.shape.length >= 3;
    const inner = first.shape.slice(perToken ? 2 : 1);
    const shape = perToken ? [parts.length, seqLen, ...inner] : [parts.length, ...inner];
    const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
    if (first.datatype === "BYTES") return { name: first.name, datatype: "BYTES", shape, data: parts.flatMap((p) => p.data as string[]) };
    const fill = <T extends Float32Array | BigInt64Array>(out: T): T => {
      parts.forEach((p, r) => out.set(p.data as never, r * rowSize));
      return out;
    };
    if (perToken && parts.some((p, r) => p.shape[1] !== lengths[r]))
      throw new Error(`output ${first.name}: a row came back at another length`);
    return first.datatype === "FP32"
      ? { name: first.name, datatype: "FP32", shape, data: fill(new Float32Array(parts.length * rowSize)) }
      : { name: first.name, datatype: "INT64", shape, data: fill(new BigInt64Array(parts.length * rowSize)) };
  });
}

/**
 * Runs each row of a batch alone at its own length and stacks the outputs back, for models whose
 * rows are not independent (dynamic int8: activation scales computed over the whole batch, padding
 * included, so a text's embedding would shift with whatever shares its batch). A row gets exactly
 * what it gets when sent alone; per-token outputs are zero past its length.
 */
export async function runRowsAlone(tokens: TokenRows, run: (rows: TokenRows) => Promise<OutputTensor[]>): Promise<OutputTensor[]> {
  const rows = Array.from({ length: tokens.rows }, (_, r) => rowAlone(tokens, r));
  const perRow: OutputTensor[][] = [];
  for (const row of rows) perRow.push(await run(row));
  return stackRows(
    perRow,
    rows.map((row) => row.seqLen),
    tokens.seqLen,
  );
}
