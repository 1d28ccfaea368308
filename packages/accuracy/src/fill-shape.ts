import { ForgeError } from "@trtforge/core";
import type { EncodedBatch, ModelTokenizer } from "@trtforge/tokenizer";

/** One full [batch, seqLen] input shape; every position holds a real token. */
export interface FullShape {
  name: string;
  batch: number;
  seqLen: number;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function columns(values: BigInt64Array, rows: number, from: number, keep: number): BigInt64Array {
  const out = new BigInt64Array(rows * keep);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * from, r * from + keep), r * keep);
  return out;
}

/**
 * A batch of exactly `shape.batch` rows of `shape.seqLen` real tokens (attention 1 everywhere):
 * each row joins consecutive texts, cycling through them, until it is long enough, and is then
 * truncated. A length below the special tokens' count keeps the templated row's first tokens
 * (the [CLS] token alone for 1), which is what the profile's minimum shape feeds the engine.
 * The exporter builds its shape references the same way (python/trtforge_export/reference.py).
 */
export function fillShape(tokenizer: ModelTokenizer, texts: readonly string[], shape: FullShape): EncodedBatch {
  if (texts.length === 0)
    throw new ForgeError("DATASET_INVALID", `no articles to fill the ${shape.name} shape [${shape.batch}, ${shape.seqLen}]`, {
      fix: "pass more articles",
    });
  const specials = tokenizer.encodeBatch([""], { maxLength: UNBOUNDED, padding: "longest", truncation: false }).seqLen;
  const rows: string[] = [];
  let next = 0;
  for (let r = 0; r < shape.batch; r++) {
    let row = "";
    // A margin past seqLen: truncation must cut every row, so no row ends in padding.
    for (let n = 0; n <= shape.seqLen + 8; n++) {
      row = row === "" ? texts[next % texts.length]! : `${row} ${texts[next % texts.length]!}`;
      next++;
      if (
        tokenizer.encodeBatch([row], { maxLength: UNBOUNDED, padding: "longest", truncation: false }).seqLen >=
        shape.seqLen + specials + 8
      )
        break;
    }
    rows.push(row);
  }
  const width = Math.max(shape.seqLen, specials + 1);
  const full = tokenizer.encodeBatch(rows, { maxLength: width, padding: "max_length", truncation: true });
  const batch: EncodedBatch = {
    batchSize: shape.batch,
    seqLen: shape.seqLen,
    inputIds: columns(full.inputIds, shape.batch, width, shape.seqLen),
    attentionMask: columns(full.attentionMask, shape.batch, width, shape.seqLen),
    ...(full.tokenTypeIds ? { tokenTypeIds: columns(full.tokenTypeIds, shape.batch, width, shape.seqLen) } : {}),
  };
  if (batch.attentionMask.some((m) => m !== 1n)) {
    throw new ForgeError("DATASET_INVALID", `the articles do not fill ${shape.seqLen} tokens per row for the ${shape.name} shape`, {
      fix: "pass longer or more articles",
    });
  }
  return batch;
}
