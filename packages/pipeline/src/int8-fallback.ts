import type { Logger } from "@trtforge/core";
import { throwIfCancelled } from "./cancel.js";
import { compareModels } from "@trtforge/accuracy";
import { insertQdq, serializeOnnxModel, sitesWithScales, type OnnxModel } from "@trtforge/onnx-graph";
import type { ModelTokenizer } from "@trtforge/tokenizer";

export interface FallbackOptions {
  model: OnnxModel;
  scales: ReadonlyMap<string, number>;
  /** Tensor → relative int8 error from its histogram: the order in which activations go back to float. */
  quantError: ReadonlyMap<string, number>;
  tokenizer: ModelTokenizer;
  /** Calibration articles (never the held-out ones): the selection must not see the test. */
  texts: readonly string[];
  outputs: readonly string[];
  /** Mean cosine against fp32 every output must reach; undefined disables the fallback. */
  target: number | undefined;
  /** At most this share of the quantized activations may go back to float. */
  maxFallbackShare: number;
  seqLen: number;
  batchSize: number;
  logger: Logger;
  onBatch?: (done: number, total: number) => void;
  signal?: AbortSignal | undefined;
}

export interface FallbackResult {
  scales: Map<string, number>;
  /** Activations left in float (their MatMuls too), worst int8 error first. */
  float: string[];
  /** Lowest per-output mean cosine on the calibration articles with this selection (null: not measured). */
  cosine: number | null;
  quantizedActivations: number;
}

/**
 * Mixed precision where full int8 misses the target: the activations whose int8 error is largest
 * (for BERT-type encoders the GELU outputs that feed the second FFN MatMul, then LayerNorm outputs
 * with outlier channels) go back to float one step at a time — 0, 1, 2, 4, 6, 8, ... — until every
 * output's mean cosine against fp32 on calibration articles reaches the target. Each step is one
 * ONNX Runtime run of the Q/DQ model; the held-out articles are measured afterwards, separately.
 */
export async function selectInt8Activations(o: FallbackOptions): Promise<FallbackResult> {
  const sites = [...new Set(sitesWithScales(o.model, o.scales).flatMap((s) => s.activations.map((a) => a.tensor)))];
  if (o.target === undefined) return { scales: new Map(o.scales), float: [], cosine: null, quantizedActivations: sites.length };
  const ranked = [...sites].sort((a, b) => (o.quantError.get(b) ?? 0) - (o.quantError.get(a) ?? 0));
  const reference = serializeOnnxModel(o.model);
  const maxFallback = Math.floor(ranked.length * o.maxFallbackShare);
  const steps = [0, 1, 2, ...Array.from({ length: Math.ceil(maxFallback / 2) }, (_, i) => 4 + 2 * i)].filter((k) => k <= maxFallback);
  let best: (FallbackResult & { cosine: number }) | undefined;
  for (const [index, k] of steps.entries()) {
    throwIfCancelled(o.signal, `during the int8 selection (step ${index + 1} of ${steps.length})`);
    const float = new Set(ranked.slice(0, k));
    const scales = new Map([...o.scales].filter(([tensor]) => !float.has(tensor)));
    const figures = await compareModels({
      reference,
      candidate: serializeOnnxModel(insertQdq(o.model, { activationScales: scales }).model),
      referenceLabel: "fp32",
      candidateLabel: `int8 with ${k} float activation(s)`,
      tokenizer: o.tokenizer,
      texts: o.texts,
      outputs: o.outputs,
      seqLen: o.seqLen,
      batchSize: o.batchSize,
      signal: o.signal,
    });
    const cosine = Math.min(...figures.map((f) => f.cosine_mean));
    const reached = cosine >= o.target;
    // Reaching the target ends the selection early: the bar's total becomes the steps taken, so it ends full.
    o.onBatch?.(index + 1, reached ? index + 1 : steps.length);
    o.logger.info({ float_activations: k, cosine }, "int8 selection on calibration articles");
    const result = { scales, float: [...float], cosine, quantizedActivations: sites.length - k };
    if (!best || cosine > best.cosine) best = result;
    if (reached) return result;
  }
  o.logger.warn(
    { target: o.target, reached: best!.cosine, float_activations: best!.float.length },
    "int8 stays below the target cosine even with the allowed float fallback",
  );
  return best!;
}
