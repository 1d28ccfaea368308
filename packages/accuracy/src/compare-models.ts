import { ForgeError } from "@trtforge/core";
import type { ModelTokenizer } from "@trtforge/tokenizer";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { OutputComparator } from "./compare-outputs.js";
import { maskPadding } from "./mask-padding.js";

/** One comparison, in the shape of the engine metadata's `accuracy` entries. */
export interface AccuracyFigure {
  reference: string;
  candidate: string;
  output: string;
  samples: number;
  max_abs_diff: number;
  cosine_mean: number;
  cosine_min: number;
  label_agreement?: number;
}

export interface CompareModelsOptions {
  /** ONNX file path or bytes of the reference (the fp32 model). */
  reference: string | Uint8Array;
  candidate: string | Uint8Array;
  referenceLabel: string;
  candidateLabel: string;
  tokenizer: ModelTokenizer;
  /** Held-out articles: never the ones the candidate was calibrated on. */
  texts: readonly string[];
  outputs: readonly string[];
  /** Outputs holding class logits, for which the share of equal argmax labels is reported. */
  labelOutputs?: readonly string[];
  batchSize?: number;
  seqLen?: number;
  onBatch?: (done: number, total: number) => void;
}

function feedsFor(session: InferenceSession, batch: ReturnType<ModelTokenizer["encodeBatch"]>, side: string): Record<string, Tensor> {
  const available: Record<string, BigInt64Array | undefined> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const data = available[name];
    if (data === undefined) {
      throw new ForgeError("INPUT_MISMATCH", `the ${side} model takes input "${name}", which the tokenizer does not produce (it gives ${Object.keys(available).filter((k) => available[k]).join(", ")})`, {
        fix: "use the tokenizer of the model the ONNX was exported from",
      });
    }
    feeds[name] = new Tensor("int64", data, [batch.batchSize, batch.seqLen]);
  }
  return feeds;
}

function argmaxAgreement(reference: Float32Array, candidate: Float32Array, rowSize: number): number {
  let same = 0;
  const rows = reference.length / rowSize;
  for (let r = 0; r < rows; r++) {
    let bestRef = 0;
    let bestCand = 0;
    for (let i = 1; i < rowSize; i++) {
      if (reference[r * rowSize + i]! > reference[r * rowSize + bestRef]!) bestRef = i;
      if (candidate[r * rowSize + i]! > candidate[r * rowSize + bestCand]!) bestCand = i;
    }
    if (bestRef === bestCand) same++;
  }
  return same;
}

/**
 * Runs reference and candidate side by side in ONNX Runtime on real articles, batch by batch (memory
 * does not grow with the number of articles), and measures how far the candidate strays per output.
 */
export async function compareModels(options: CompareModelsOptions): Promise<AccuracyFigure[]> {
  const sessionOptions: InferenceSession.SessionOptions = { graphOptimizationLevel: "all" };
  const create = (m: string | Uint8Array) => (typeof m === "string" ? InferenceSession.create(m, sessionOptions) : InferenceSession.create(m, sessionOptions));
  const [reference, candidate] = await Promise.all([create(options.reference), create(options.candidate)]);
  const comparators = new Map(options.outputs.map((o) => [o, new OutputComparator(o)]));
  const agreements = new Map((options.labelOutputs ?? []).map((o) => [o, 0]));
  const batchSize = options.batchSize ?? 32;
  try {
    for (let from = 0; from < options.texts.length; from += batchSize) {
      const texts = options.texts.slice(from, from + batchSize);
      const batch = options.tokenizer.encodeBatch([...texts], { maxLength: options.seqLen ?? 128, padding: "longest", truncation: true });
      const [ref, cand] = await Promise.all([
        reference.run(feedsFor(reference, batch, "reference"), [...options.outputs]),
        candidate.run(feedsFor(candidate, batch, "candidate"), [...options.outputs]),
      ]);
      for (const name of options.outputs) {
        const r = ref[name]!;
        const c = cand[name]!;
        const rowSize = r.dims.slice(1).reduce((a, b) => a * b, 1);
        const rv = maskPadding(r.data as Float32Array, r.dims, batch.attentionMask);
        const cv = maskPadding(c.data as Float32Array, c.dims, batch.attentionMask);
        comparators.get(name)!.add(rv, cv, rowSize);
        if (agreements.has(name)) agreements.set(name, agreements.get(name)! + argmaxAgreement(rv, cv, rowSize));
      }
      options.onBatch?.(Math.min(from + batchSize, options.texts.length), options.texts.length);
    }
  } finally {
    await Promise.all([reference.release(), candidate.release()]);
  }
  return [...comparators.values()].map((c) => {
    const r = c.result();
    const agreed = agreements.get(r.output);
    return {
      reference: options.referenceLabel,
      candidate: options.candidateLabel,
      ...r,
      ...(agreed === undefined ? {} : { label_agreement: agreed / r.samples }),
    };
  });
}
