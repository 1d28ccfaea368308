import { fillShape, type FullShape } from "@trtforge/accuracy";
import {
  indexGraph,
  insertQdq,
  mainGraph,
  quantizationSites,
  serializeOnnxModel,
  smoothQuant,
  withExtraOutputs,
  type OnnxModel,
  type SmoothedActivation,
} from "@trtforge/onnx-graph";
import type { ModelTokenizer } from "@trtforge/tokenizer";
import { InferenceSession } from "onnxruntime-node";
import { scaleOfAmax } from "./amax.js";
import { mseChosenAmax } from "./mse-amax.js";
import { batchFeeds, checkModelInputs, rowsOf } from "./model-inputs.js";
import { ShapeProbe } from "./shape-probe.js";
import {
  chooseFloatSites,
  MAX_FLOAT_SHARE,
  measureSensitivity,
  PROBE_TEXTS,
  throwIfCancelled,
  type SiteSensitivity,
} from "./sensitivity.js";

/** SmoothQuant's default migration strength; on MiniLM's LayerNorm outputs it took FFN1 alone from 0.9958 to 0.9993 at 256 tokens. */
export const DEFAULT_SMOOTHING_ALPHA = 0.5;

export interface W8A8PlanOptions {
  model: OnnxModel;
  /** Where the model came from, named in input errors. */
  onnxPath: string;
  /** calibrate()'s per-tensor scales and amax (max calibration keeps the smoothed amax comparable). */
  scales: ReadonlyMap<string, number>;
  tokenizer: ModelTokenizer;
  /** Calibration articles (never the held-out ones). */
  texts: readonly string[];
  outputs: readonly string[];
  /** Where channel ranges and sensitivity are measured: the profile's longest length, a few rows. */
  shape: FullShape;
  /**
   * Shapes every probe (probability clips, sensitivity) runs at besides `shape`, its cosine the
   * lowest over all: a clip that helps long rows cuts the probability 1 a one-token row has, so
   * the profile's shortest shape must be able to veto it.
   */
  guardShapes?: readonly FullShape[];
  alpha?: number;
  /** Share of MatMuls the sensitivity may keep in float (default 10%); 0 measures nothing. */
  maxFloatShare?: number;
  /** Search each attention-probability tensor's clip (PROBABILITY_CLIPS) on the calibration rows; default true. */
  searchProbabilityClips?: boolean;
  /** The clip factors tried (default PROBABILITY_CLIPS); 1, the calibrated max, is always the starting point. */
  probabilityClipFactors?: readonly number[];
  /**
   * The GELU outputs' (FFN2 inputs') amax: "mse" (default) the fraction of the calibrated max that
   * minimises their int8 quantization MSE over `MSE_SAMPLE_ROWS` rows at `shape`'s length; "max" keeps the calibrated max.
   */
  geluAmax?: "mse" | "max";
  onStep?: (done: number, total: number) => void;
  /** Checked before each probe: an aborted run stops with CANCELLED. */
  signal?: AbortSignal | undefined;
}

/**
 * Amax factors tried for each attention-probability tensor (1: its calibrated max, at most 1). The
 * finer grid (0.7 and 0.35 added) was chosen for 4 of MiniLM's 6 layers and took P·V alone in int8
 * from 0.9924 (0.5 everywhere) to 0.9946 at [32, 256] (benchmarks/int8-w8a8-search.py).
 */
export const PROBABILITY_CLIPS = [1, 0.7, 0.5, 0.35, 0.25] as const;

/** Rows (at the plan's longest length) whose GELU-output values the MSE amax is chosen on. */
export const MSE_SAMPLE_ROWS = 8;
/** Values kept per tensor and batch of rows for the MSE amax (a scattered sample, not every value). */
export const MSE_SAMPLE_PER_RUN = 1 << 17;

export interface W8A8Plan {
  /** The smoothed float model: insertQdq it with `scales` and `floatNodes`. */
  model: OnnxModel;
  scales: Map<string, number>;
  floatNodes: Set<string>;
  smoothed: SmoothedActivation[];
  sensitivity: SiteSensitivity[];
  /** MatMul/Gemm/Conv sites of the model: the denominator of the float share. */
  totalSites: number;
  /** Attention-probability tensor → the amax factor chosen for it on the calibration rows. */
  probabilityClips: Map<string, number>;
  /** GELU output → its amax as a fraction of the calibrated max, chosen by quantization MSE (empty with geluAmax "max"). */
  geluAmaxFractions: Map<string, number>;
}

/**
 * The attention probabilities: first inputs of MatMuls of two activations whose calibrated amax is
 * at most 1 (a Softmax output, possibly through the exporter's NaN guard). Quantized on a [0, 1]
 * grid of step 1/127, they lose most of their values once a row spreads over hundreds of keys.
 */
export function probabilityTensors(model: OnnxModel, scales: ReadonlyMap<string, number>): string[] {
  return quantizationSites(model)
    .filter((s) => s.weight === undefined && s.activations.length === 2)
    .map((s) => s.activations[0]!.tensor)
    .filter((t) => (scales.get(t) ?? Infinity) * 127 <= 1.0001);
}

/**
 * Activations a LayerNormalization writes that feed weight MatMuls as their first input: in a BERT,
 * the Q/K/V and first FFN inputs, whose outlier channels set a per-tensor int8 scale that wastes
 * most levels on every other channel. These are the tensors SmoothQuant helps (measured on MiniLM;
 * on the GELU outputs it hurt, so they are left alone).
 */
export function layerNormMatMulInputs(model: OnnxModel): string[] {
  const graph = mainGraph(model);
  const index = indexGraph(graph);
  return graph.node
    .filter((n) => n.op_type === "LayerNormalization")
    .map((n) => n.output[0]!)
    .filter((t) =>
      (index.consumers.get(t) ?? []).some(
        (u) => u.node.op_type === "MatMul" && u.inputIndex === 0 && index.initializers.has(u.node.input[1]!),
      ),
    );
}

const GELU_OPS = new Set(["Gelu", "FastGelu", "BiasGelu"]);

/**
 * Activations a GELU writes that feed weight MatMuls as their first input: in a BERT, the second
 * FFN projection's input. A Gelu op, or the exporters' decomposition x·0.5·(1 + erf(x/√2)) (or
 * its tanh form): a Mul with an Erf or Tanh at most four nodes up. Their range is a long tail
 * (MiniLM layer 0: amax 24, most values under 1), which max calibration spends its levels on.
 */
export function geluMatMulInputs(model: OnnxModel): string[] {
  const graph = mainGraph(model);
  const index = indexGraph(graph);
  const isGelu = (tensor: string): boolean => {
    const node = index.producers.get(tensor);
    if (node === undefined) return false;
    if (GELU_OPS.has(node.op_type)) return true;
    if (node.op_type !== "Mul") return false;
    let frontier = [node];
    for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
      const next = [];
      for (const n of frontier) {
        for (const input of n.input) {
          const up = index.producers.get(input);
          if (up === undefined) continue;
          if (up.op_type === "Erf" || up.op_type === "Tanh") return true;
          next.push(up);
        }
      }
      frontier = next;
    }
    return false;
  };
  const found = new Set<string>();
  for (const node of graph.node) {
    const input = node.input[0];
    if (node.op_type === "MatMul" && input !== undefined && index.initializers.has(node.input[1]!) && isGelu(input)) found.add(input);
  }
  return [...found];
}

/**
 * Runs `model` with `tensors` as extra outputs over the rows of `shape` (filled from `texts`), four
 * rows at a time, handing each run's tensors to `visit`.
 */
async function visitTensors(
  model: OnnxModel,
  onnxPath: string,
  tensors: readonly string[],
  tokenizer: ModelTokenizer,
  texts: readonly string[],
  shape: FullShape,
  visit: (outputs: InferenceSession.OnnxValueMapType) => void,
): Promise<void> {
  const inputs = checkModelInputs(model, tokenizer, onnxPath);
  const session = await InferenceSession.create(serializeOnnxModel(withExtraOutputs(model, tensors)), { graphOptimizationLevel: "all" });
  try {
    const batch = fillShape(tokenizer, texts, shape);
    for (let row = 0; row < batch.batchSize; row += 4) {
      visit(await session.run(batchFeeds(rowsOf(batch, row, Math.min(4, batch.batchSize - row)), inputs), [...tensors]));
    }
  } finally {
    await session.release();
  }
}

/**
 * A scattered sample (a fixed pseudo-random pick of `perRun` values per batch of rows) of each
 * tensor's values over the rows of `shape`, filled from `texts`.
 */
export async function activationSamples(
  model: OnnxModel,
  onnxPath: string,
  tensors: readonly string[],
  tokenizer: ModelTokenizer,
  texts: readonly string[],
  shape: FullShape,
  perRun = MSE_SAMPLE_PER_RUN,
): Promise<Map<string, Float32Array>> {
  const parts = new Map<string, Float32Array[]>(tensors.map((t) => [t, []]));
  // xorshift32: the same sample every run, spread over channels (a fixed stride could alias with the channel count).
  let state = 0x9e3779b9;
  const next = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  await visitTensors(model, onnxPath, tensors, tokenizer, texts, shape, (outputs) => {
    for (const tensor of tensors) {
      const data = outputs[tensor]!.data as Float32Array;
      const count = Math.min(perRun, data.length);
      const picked = new Float32Array(count);
      for (let i = 0; i < count; i++) picked[i] = count === data.length ? data[i]! : data[next(data.length)]!;
      parts.get(tensor)!.push(picked);
    }
  });
  return new Map(
    tensors.map((t) => {
      const chunks = parts.get(t)!;
      const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return [t, all];
    }),
  );
}

/** Largest |x| per channel (last axis) of each tensor over the rows of `shape`, filled from `texts`. */
export async function channelRanges(
  model: OnnxModel,
  onnxPath: string,
  tensors: readonly string[],
  tokenizer: ModelTokenizer,
  texts: readonly string[],
  shape: FullShape,
): Promise<Map<string, Float32Array>> {
  const ranges = new Map<string, Float32Array>();
  await visitTensors(model, onnxPath, tensors, tokenizer, texts, shape, (outputs) => {
    for (const tensor of tensors) {
      const value = outputs[tensor]!;
      const data = value.data as Float32Array;
      const channels = value.dims.at(-1)!;
      const amax = ranges.get(tensor) ?? new Float32Array(channels);
      for (let i = 0; i < data.length; i++) {
        const a = Math.abs(data[i]!);
        if (a > amax[i % channels]!) amax[i % channels] = a;
      }
      ranges.set(tensor, amax);
    }
  });
  return ranges;
}

/**
 * W8A8 that holds at long inputs: SmoothQuant on the LayerNorm-fed MatMuls (channel ranges measured
 * at the longest shape, the smoothed tensor's scale the larger of its smoothed range and nothing
 * else), the GELU outputs' amax by quantization MSE, each layer's attention-probability clip on the
 * probe's output cosine, then a measured per-site sensitivity at that shape chooses at most
 * `maxFloatShare` of the MatMuls to keep in float. Activation int8 and the symmetric Q/DQ form are
 * kept everywhere else.
 */
export async function planW8A8(o: W8A8PlanOptions): Promise<W8A8Plan> {
  const tensors = layerNormMatMulInputs(o.model).filter((t) => o.scales.has(t));
  const ranges = await channelRanges(o.model, o.onnxPath, tensors, o.tokenizer, o.texts, o.shape);
  const alpha = o.alpha ?? DEFAULT_SMOOTHING_ALPHA;
  const smoothing = smoothQuant(
    o.model,
    tensors.map((tensor) => ({ tensor, channelAmax: ranges.get(tensor)!, alpha })),
  );
  const scales = new Map(o.scales);
  for (const s of smoothing.smoothed) {
    // Calibration saw the unsmoothed tensor; its scale over all lengths bounds the smoothed one's channels too.
    const calibrated = o.scales.get(s.source)! * 127;
    const channelMax = Math.max(...ranges.get(s.source)!);
    // The smoothed range grows with the calibrated range where calibration saw more than these rows did.
    scales.set(s.tensor, scaleOfAmax(s.amax * Math.max(1, calibrated / channelMax)));
  }
  // The GELU outputs: amax by quantization MSE (their long tail wastes most int8 levels at the max).
  const geluAmaxFractions = new Map<string, number>();
  if ((o.geluAmax ?? "mse") === "mse") {
    throwIfCancelled(o.signal, "sampling the GELU outputs");
    const gelus = geluMatMulInputs(smoothing.model).filter((t) => scales.has(t));
    const samples = await activationSamples(o.model, o.onnxPath, gelus, o.tokenizer, o.texts, {
      name: "mse",
      batch: MSE_SAMPLE_ROWS,
      seqLen: o.shape.seqLen,
    });
    for (const tensor of gelus) {
      const max = scales.get(tensor)! * 127;
      const amax = mseChosenAmax(samples.get(tensor)!, max);
      scales.set(tensor, scaleOfAmax(amax));
      geluAmaxFractions.set(tensor, amax / max);
    }
  }
  // Per layer, the probability clip that gives the best output on the calibration rows, one layer at a time.
  const probabilityClips = new Map<string, number>();
  // The smoothed model computes what the fp32 one does, so one set of fp32 outputs serves every probe.
  const shapeProbe = await ShapeProbe.create({
    reference: o.model,
    onnxPath: o.onnxPath,
    tokenizer: o.tokenizer,
    texts: o.texts.slice(0, PROBE_TEXTS),
    outputs: o.outputs,
    shapes: [o.shape, ...(o.guardShapes ?? [])],
  });
  const probe = (candidateScales: ReadonlyMap<string, number>): Promise<number> => {
    throwIfCancelled(o.signal, "searching the attention-probability clips");
    return shapeProbe.cosine(serializeOnnxModel(insertQdq(smoothing.model, { activationScales: candidateScales }).model));
  };
  if (o.searchProbabilityClips ?? true) {
    let best = await probe(scales);
    for (const tensor of probabilityTensors(smoothing.model, scales)) {
      const base = scales.get(tensor)!;
      let chosen = 1;
      for (const factor of (o.probabilityClipFactors ?? PROBABILITY_CLIPS).filter((f) => f !== 1)) {
        const trial = new Map(scales).set(tensor, base * factor);
        const cosine = await probe(trial);
        if (cosine > best) [best, chosen] = [cosine, factor];
      }
      scales.set(tensor, base * chosen);
      probabilityClips.set(tensor, chosen);
    }
  }
  const totalSites = quantizationSites(smoothing.model).length;
  const share = o.maxFloatShare ?? MAX_FLOAT_SHARE;
  let sensitivity: SiteSensitivity[] = [];
  if (Math.floor(totalSites * share) > 0) {
    sensitivity = await measureSensitivity({
      model: smoothing.model,
      scales,
      tokenizer: o.tokenizer,
      texts: o.texts.slice(0, PROBE_TEXTS),
      outputs: o.outputs,
      shape: o.shape,
      probe: shapeProbe,
      signal: o.signal,
      ...(o.onStep ? { onSite: o.onStep } : {}),
    });
  }
  const floatNodes = new Set(chooseFloatSites(sensitivity, totalSites, share));
  return {
    model: smoothing.model,
    scales,
    floatNodes,
    smoothed: smoothing.smoothed,
    sensitivity,
    totalSites,
    probabilityClips,
    geluAmaxFractions,
  };
}
