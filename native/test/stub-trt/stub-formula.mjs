// What the stub runtime's enqueueV3 computes (stub_runtime.cu), in exact integer arithmetic, for
// the programs that check its outputs value by value:
//   checksum[b] = sum over inputs i (plan order), over the row's elements j of (i+1) * (j+1) * input_i[b, j]
//   output_o[b, k] = (checksum[b] + 7919 * (k+1) + 104729 * o) mod 2^23   (float32 outputs)
// Right-padding with zeros (pad id 0, attention 0, type 0) adds nothing to a checksum, so a row's
// values do not depend on the batch it was merged into.
export const MOD_FLOAT = 2 ** 23;

/** Row checksums of one batch; `inputs` in plan order, each row-major with `rowLength` elements per row. */
export function rowChecksums(inputs, batch) {
  const sums = new Array(batch).fill(0);
  inputs.forEach(({ data, rowLength }, i) => {
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < rowLength; j++) sums[b] += (i + 1) * (j + 1) * Number(data[b * rowLength + j]);
    }
  });
  return sums;
}

/** Element k of a row whose checksum is `sum`, in output `outputIndex` (plan order). */
export function stubValue(sum, k, outputIndex) {
  return (((sum + 7919 * (k + 1) + 104729 * outputIndex) % MOD_FLOAT) + MOD_FLOAT) % MOD_FLOAT;
}
