import { ForgeError } from "@trtforge/core";
import type { EncodedBatch, ModelTokenizer } from "@trtforge/tokenizer";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { OutputComparator } from "./compare-outputs.js";
import { labelAgreement, ARGMAX, type LabelDecision, type LabelTally } from "./label-agreement.js";
import { maskPadding } from "./mask-padding.js";
import { fillShape, type FullShape } from "./fill-shape.js";

/** One comparison, in the shape of the engine metadata's `accuracy` entries. */
export interface AccuracyFigure {
  reference: string;
  candidate: string;
  output: string;
  samples: number;
  max_abs_diff: number;
  cosine_mean: number;
  cosine_min: number;
  /** 1st percentile of the per-sample cosines (nearest rank; the minimum below 100 samples). */
  cosine_p01: number;
  /** Share of equal label decisions (see label_decision); classifier logits only. */
  label_agreement?: number;
  /** "argmax": one label per sample; "sigmoid-threshold": one decision per sample and label (multi-label heads). */
  label_decision?: LabelDecision["kind"];
  /** Multi-label heads: share of samples whose whole label set (every label's decision) equals the reference's. */
  label_set_agreement?: number;
  /** The sigmoid probability at or above which a multi-label head says yes. */
  label_threshold?: number;
  /** Present when the figure comes from one run at a full profile shape rather than the held-out articles. */
  shape?: { name: string; batch: number; seq_len: number };
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
  /** Outputs holding class logits, for which the share of equal label decisions is reported. */
  labelOutputs?: readonly string[];
  /** How those logits become labels (default argmax: a single-label head). */
  labelDecision?: LabelDecision;
  /** Full shapes to run once each besides the held-out batches (the build profile's min, opt, max), filled from `texts`. */
  shapes?: readonly FullShape[];
  batchSize?: number;
  seqLen?: number;
  onBatch?: (done: number, total: number) => void;
  /** Checked before each batch and shape: an aborted run stops with CANCELLED instead of finishing the comparison. */
  signal?: AbortSignal | undefined;
}

function throwIfAborted(signal: AbortSignal | undefined, done: number, total: number): void {
  if (signal?.aborted === true) {
    throw new ForgeError("CANCELLED", `accuracy comparison cancelled after ${done} of ${total} steps`, { fix: "run the command again" });
  }
}

function feedsFor(session: InferenceSession, batch: EncodedBatch, side: string): Record<string, Tensor> {
  const available: Record<string, BigInt64Array | undefined> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const data = available[name];
    if (data === undefined) {
      throw new ForgeError(
        "INPUT_MISMATCH",
        `the ${side} model takes input "${name}", which the tokenizer does not produce (it gives ${Object.keys(available)
          .filter((k) => available[k])
          .join(", ")})`,
        {
          fix: "use the tokenizer of the model the ONNX was exported from",
        },
      );
    }
    feeds[name] = new Tensor("int64", data, [batch.batchSize, batch.seqLen]);
  }
  return feeds;
}

/**
 * Runs reference and candidate side by side in ONNX Runtime on real articles, batch by batch (memory
 * does not grow with the number of articles), and measures how far the candidate strays per output.
 */
export async function compareModels(options: CompareModelsOptions): Promise<AccuracyFigure[]> {
  const sessionOptions: InferenceSession.SessionOptions = { graphOptimizationLevel: "all" };
  const create = (m: string | Uint8Array) =>
    typeof m === "string" ? InferenceSession.create(m, sessionOptions) : InferenceSession.create(m, sessionOptions);
  const [reference, candidate] = await Promise.all([create(options.reference), create(options.candidate)]);
  const batchSize = options.batchSize ?? 32;
  const shapes = options.shapes ?? [];
  const steps = Math.ceil(options.texts.length / batchSize) + shapes.length;
  const run = (batch: EncodedBatch, tally: Tally) => runBoth(reference, candidate, batch, options, tally);
  try {
    const heldOut = new Tally(options);
    for (let from = 0; from < options.texts.length; from += batchSize) {
      throwIfAborted(options.signal, Math.floor(from / batchSize), steps);
      const texts = options.texts.slice(from, from + batchSize);
      await run(
        options.tokenizer.encodeBatch([...texts], { maxLength: options.seqLen ?? 128, padding: "longest", truncation: true }),
        heldOut,
      );
      options.onBatch?.(Math.floor(from / batchSize) + 1, steps);
    }
    const figures = heldOut.figures(options);
    for (const [index, shape] of shapes.entries()) {
      throwIfAborted(options.signal, steps - shapes.length + index, steps);
      const tally = new Tally(options);
      await run(fillShape(options.tokenizer, options.texts, shape), tally);
      figures.push(...tally.figures(options, { name: shape.name, batch: shape.batch, seq_len: shape.seqLen }));
      options.onBatch?.(steps - shapes.length + index + 1, steps);
    }
    return figures;
  } finally {
    await Promise.all([reference.release(), candidate.release()]);
  }
}

/** The comparisons of one set of runs (the held-out batches, or one full shape). */
class Tally {
  readonly comparators: Map<string, OutputComparator>;
  readonly labels: Map<string, LabelTally>;
  constructor(options: CompareModelsOptions) {
    this.comparators = new Map(options.outputs.map((o) => [o, new OutputComparator(o)]));
    this.labels = new Map((options.labelOutputs ?? []).map((o) => [o, { agreed: 0, decisions: 0, samplesAgreed: 0, samples: 0 }]));
  }

  figures(options: CompareModelsOptions, shape?: AccuracyFigure["shape"]): AccuracyFigure[] {
    const decision = options.labelDecision ?? ARGMAX;
    return [...this.comparators.values()].map((c) => {
      const r = c.result();
      const labels = this.labels.get(r.output);
      return {
        reference: options.referenceLabel,
        candidate: options.candidateLabel,
        ...r,
        ...(labels === undefined || labels.decisions === 0
          ? {}
          : {
              label_agreement: labels.agreed / labels.decisions,
              label_decision: decision.kind,
              ...(decision.kind === "sigmoid-threshold"
                ? { label_threshold: decision.threshold, label_set_agreement: labels.samplesAgreed / labels.samples }
                : {}),
            }),
        ...(shape ? { shape } : {}),
      };
    });
  }
}

async function runBoth(
  reference: InferenceSession,
  candidate: InferenceSession,
  batch: EncodedBatch,
  options: CompareModelsOptions,
  tally: Tally,
): Promise<void> {
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
    tally.comparators.get(name)!.add(rv, cv, rowSize);
    const labels = tally.labels.get(name);
    if (labels) {
      const t = labelAgreement(rv, cv, rowSize, options.labelDecision ?? ARGMAX);
      labels.agreed += t.agreed;
      labels.decisions += t.decisions;
      labels.samplesAgreed += t.samplesAgreed;
      labels.samples += t.samples;
    }
  }
}
