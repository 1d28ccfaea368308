import { ForgeError } from "@trtforge/core";
import {
  opsetVersion,
  SAMPLE_TAPS_MIN_OPSET,
  serializeOnnxModel,
  withExtraOutputs,
  withSampleTaps,
  type OnnxModel,
} from "@trtforge/onnx-graph";
import { tensorsThatMayHoldFills } from "./fill-tensors.js";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { FILL_MAGNITUDE, type AbsHistogram } from "./abs-histogram.js";

type Feeds = InferenceSession.FeedsType;
type Outputs = Record<string, InferenceSession.OnnxValueMapType[string] | undefined>;

export interface ReaderSettings {
  /** Every stride-th value is histogrammed (1: every value); the max is always exact. */
  sampleStride: number;
  intraOpThreads: number;
}

/** Milliseconds spent in ONNX Runtime (copy-out included) and in histogram updates. */
export interface RunTiming {
  runMs: number;
  histogramMs: number;
  /** Each tensor's largest finite, non-fill |x| in this run (0 when it had none): the per-length-band ranges of the report. */
  maxAbs: Map<string, number>;
}

/** Largest |x| below the fill magnitude; NaN fails the comparison and is left out. */
function finiteMaxAbs(values: Float32Array): number {
  let max = 0;
  for (const v of values) {
    const a = Math.abs(v);
    if (a > max && a < FILL_MAGNITUDE) max = a;
  }
  return max;
}

/**
 * Runs the model on the feeds and folds each calibrated tensor into its histogram. Two forms: every
 * value copied out of ONNX Runtime (stride 1), or a strided sample plus the exact max computed in
 * the graph (stride > 1; see withSampleTaps), which copies 1/stride of the activations.
 */
export interface ActivationReader {
  readonly sampleStride: number;
  /** Tensors whose in-graph max leaves out NaN, infinities and mask fills (predicted, or met in a run). */
  readonly maskedTensors: ReadonlySet<string>;
  /** Times a run met a NaN, infinity or fill in a tensor not masked yet and the session was rebuilt. */
  readonly rebuilds: number;
  run(feeds: Feeds, histograms: ReadonlyMap<string, AbsHistogram>): Promise<RunTiming>;
  release(): Promise<void>;
}

/**
 * `arena`: ONNX Runtime's CPU memory arena. Off when every activation is copied out: the arena
 * would keep each run's output buffers reserved at their peak. On for sampled runs, whose outputs
 * are small: there it saves the allocations that cost a sampled run ~40% against plain inference.
 */
function createSession(model: OnnxModel, settings: ReaderSettings, arena: boolean): Promise<InferenceSession> {
  return InferenceSession.create(serializeOnnxModel(model), {
    // Exposed tensors keep their values under every optimization (ORT never fuses away a graph output).
    graphOptimizationLevel: "all",
    enableCpuMemArena: arena,
    intraOpNumThreads: settings.intraOpThreads,
  });
}

function float32Of(outputs: Outputs, name: string, tensor: string): Float32Array {
  const value = outputs[name];
  if (value === undefined || value.type !== "float32") {
    throw new ForgeError(
      "INTERNAL",
      `ONNX Runtime returned ${value === undefined ? "no" : `a ${value.type}`} tensor for ${tensor}, a float32 activation was expected`,
    );
  }
  return value.data as Float32Array;
}

/** Every value of every tensor, copied out of ONNX Runtime. */
async function fullReader(model: OnnxModel, tensors: readonly string[], settings: ReaderSettings): Promise<ActivationReader> {
  const session = await createSession(withExtraOutputs(model, tensors), settings, false);
  return {
    sampleStride: 1,
    maskedTensors: new Set(),
    rebuilds: 0,
    async run(feeds, histograms) {
      const started = performance.now();
      // A mutable copy, so that each tensor can be let go of as soon as it is counted.
      const outputs: Outputs = { ...(await session.run(feeds, tensors)) };
      const counting = performance.now();
      const maxAbs = new Map<string, number>();
      for (const tensor of tensors) {
        const values = float32Of(outputs, tensor, tensor);
        maxAbs.set(tensor, finiteMaxAbs(values));
        histograms.get(tensor)!.add(values);
        // Dropped at once, so that the garbage collector can free it while the next tensors are read.
        delete outputs[tensor];
      }
      return { runMs: counting - started, histogramMs: performance.now() - counting, maxAbs };
    },
    release: () => session.release(),
  };
}

/**
 * A strided sample and the exact max of every tensor. Tensors the graph says may carry mask fills
 * get a masked max from the start; any other whose plain in-graph max comes back NaN, infinite or
 * at mask-fill size is switched to a masked max then: the session is rebuilt for all such tensors
 * of that run and the same rows run again, so no run's values are counted twice or lost.
 */
async function sampledReader(model: OnnxModel, tensors: readonly string[], settings: ReaderSettings): Promise<ActivationReader> {
  const stride = settings.sampleStride;
  // Masked from the first run where the graph shows fills can reach; others are found at run time.
  const mayHoldFills = tensorsThatMayHoldFills(model, FILL_MAGNITUDE);
  const masked = new Set(tensors.filter((t) => mayHoldFills.has(t)));
  // The tapped model, its session and what to fetch, rebuilt together whenever `masked` grows.
  const open = async () => {
    const tapped = withSampleTaps(model, tensors, { stride, masked, fillMagnitude: FILL_MAGNITUDE });
    const session = await createSession(tapped.model, settings, true);
    return { tapped, session, fetches: tapped.taps.flatMap((t) => [t.sampleOutput, t.maxAbsOutput]) };
  };
  let current: Awaited<ReturnType<typeof open>> | undefined = await open();
  let runs = 0;
  let rebuilds = 0;
  const runOnce = async (feeds: Feeds, start: Tensor) => {
    const { tapped, session, fetches } = current!;
    const outputs: Outputs = await session.run({ ...feeds, [tapped.startInput]: start }, fetches);
    return tapped.taps.map((tap) => ({
      tap,
      maxAbs: float32Of(outputs, tap.maxAbsOutput, tap.tensor)[0]!,
      sample: () => float32Of(outputs, tap.sampleOutput, tap.tensor),
    }));
  };
  return {
    sampleStride: stride,
    maskedTensors: masked,
    get rebuilds() {
      return rebuilds;
    },
    async run(feeds, histograms) {
      const started = performance.now();
      // Where this run's sample starts rotates, so that over the runs every position of a tensor is sampled even when a dimension is a multiple of the stride.
      const start = new Tensor("int64", BigInt64Array.of(BigInt(runs % stride)), [1]);
      runs++;
      let results = await runOnce(feeds, start);
      // NaN fails the comparison too.
      const unusable = results.filter((r) => !r.tap.masked && !(r.maxAbs < FILL_MAGNITUDE));
      if (unusable.length > 0) {
        rebuilds++;
        for (const r of unusable) masked.add(r.tap.tensor);
        const old = current!;
        // Cleared first: if the new session fails to build, release() must not free the old one again.
        current = undefined;
        await old.session.release();
        current = await open();
        results = await runOnce(feeds, start);
      }
      const counting = performance.now();
      for (const { tap, maxAbs, sample } of results) histograms.get(tap.tensor)!.addSample(sample(), maxAbs);
      const maxAbs = new Map(results.map((r) => [r.tap.tensor, r.maxAbs]));
      return { runMs: counting - started, histogramMs: performance.now() - counting, maxAbs };
    },
    release: async () => {
      const last = current;
      current = undefined;
      await last?.session.release();
    },
  };
}

export function createActivationReader(model: OnnxModel, tensors: readonly string[], settings: ReaderSettings): Promise<ActivationReader> {
  // Slice with a step input came with opset 10; older models are read whole.
  const sampled = settings.sampleStride > 1 && (opsetVersion(model) ?? 0) >= SAMPLE_TAPS_MIN_OPSET;
  return sampled ? sampledReader(model, tensors, settings) : fullReader(model, tensors, settings);
}
