import * as ort from "onnxruntime-node";

export interface BertBatch {
  input_ids: BigInt64Array;
  attention_mask: BigInt64Array;
  token_type_ids: BigInt64Array;
  dims: [number, number];
}

/** Two sequences of 8 tokens; the second is padded after 5 tokens, exercising the mask path. */
export function bertBatch(seed = 1): BertBatch {
  const [batch, sequence] = [2, 8];
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const ids = BigInt64Array.from({ length: batch * sequence }, () => BigInt(next() % 96));
  const mask = BigInt64Array.from({ length: batch * sequence }, (_, i) => (i >= sequence && i % sequence >= 5 ? 0n : 1n));
  return { input_ids: ids, attention_mask: mask, token_type_ids: new BigInt64Array(batch * sequence), dims: [batch, sequence] };
}

export function bertFeeds(batch: BertBatch): Record<string, ort.Tensor> {
  return {
    input_ids: new ort.Tensor("int64", batch.input_ids, batch.dims),
    attention_mask: new ort.Tensor("int64", batch.attention_mask, batch.dims),
    token_type_ids: new ort.Tensor("int64", batch.token_type_ids, batch.dims),
  };
}

/** Runs a model (bytes or a path) once on the feeds, every output fetched, and releases the session. */
export async function runFeeds(model: Uint8Array | string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = typeof model === "string" ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export function runModel(model: Uint8Array | string, batch: BertBatch): Promise<Record<string, ort.Tensor>> {
  return runFeeds(model, bertFeeds(batch));
}

export function floats(tensor: ort.Tensor | undefined): Float32Array {
  if (tensor === undefined || tensor.type !== "float32") throw new Error(`expected a float32 tensor, got ${tensor?.type}`);
  return tensor.data as Float32Array;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
