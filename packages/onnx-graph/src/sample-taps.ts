import { ForgeError } from "@trtforge/core";
import { indexGraph, isStandardDomain, NameAllocator } from "./graph-index.js";
import { cloneModel, mainGraph, opsetVersion, type OnnxModel } from "./model.js";
import { DataType, type NodeProto } from "./proto-types.js";
import { intAttr } from "./attributes.js";
import { createNode, createTensorValueInfo } from "./schema.js";
import { tensorFromTypedArray } from "./tensor-data.js";

/** Slice with a step input needs opset 10. */
export const SAMPLE_TAPS_MIN_OPSET = 10;

/** Standard ops whose outputs are never negative: their max |x| is their max, one reduction instead of two. */
const NONNEGATIVE_OPS: ReadonlySet<string> = new Set(["Softmax", "Relu", "Sigmoid", "Abs", "Exp"]);

export interface SampleTap {
  /** The tapped activation. */
  tensor: string;
  /** Graph output holding every stride-th value of the flattened tensor, from the run's start offset. */
  sampleOutput: string;
  /** Graph output holding the exact largest |x| of the whole tensor (a scalar). */
  maxAbsOutput: string;
  /** True when the max leaves out NaN, ±inf and |x| ≥ the fill magnitude (costs three more passes over the tensor). */
  masked: boolean;
}

export interface SampleTapsModel {
  model: OnnxModel;
  /** The int64 [1] graph input that sets where each run's sample starts (0 ≤ start < stride). */
  startInput: string;
  taps: SampleTap[];
}

export interface SampleTapsOptions {
  /** Keep every stride-th value (≥ 1). */
  stride: number;
  /** Tensors whose max must leave out mask fills and NaN (see SampleTap.masked). */
  masked?: ReadonlySet<string>;
  /** |x| at or above this is a mask fill, left out of masked maxima. */
  fillMagnitude: number;
}

/**
 * A copy of the model that, for each named float tensor, outputs a strided sample of its values
 * and its exact max |x|, computed inside ONNX Runtime. Calibration then copies 1/stride of each
 * activation out of the runtime instead of all of it, while the range (which max calibration and
 * TensorRT's histogram edge depend on) stays exact.
 *
 * The plain max is max(ReduceMax(x), −ReduceMin(x)): two reads of the tensor and no copy (one read,
 * ReduceMax, for outputs of Softmax, Relu, Sigmoid, Abs and Exp, which are never negative). A NaN, an
 * infinity or a mask fill makes it ≥ the fill magnitude or NaN, which the caller detects and answers
 * by tapping that tensor `masked`, where |x| is zeroed outside the finite, non-fill range first.
 */
export function withSampleTaps(model: OnnxModel, tensors: readonly string[], options: SampleTapsOptions): SampleTapsModel {
  const opset = opsetVersion(model) ?? 0;
  if (opset < SAMPLE_TAPS_MIN_OPSET) {
    throw new ForgeError(
      "INVALID_ARGUMENT",
      `sampled calibration needs ONNX opset ${SAMPLE_TAPS_MIN_OPSET} or later, the model imports opset ${opset}`,
      {
        input: "model",
        fix: "calibrate with a sample stride of 1 (every value), or re-export at a newer opset",
      },
    );
  }
  if (!Number.isSafeInteger(options.stride) || options.stride < 1) {
    throw new ForgeError("INVALID_LIMIT", `a sample stride must be a positive integer, got ${options.stride}`, {
      input: "stride",
      fix: "use 1 for every value, or a small prime such as 13",
    });
  }
  const copy = cloneModel(model);
  const graph = mainGraph(copy);
  const names = new NameAllocator(graph);
  const constant = (base: string, type: number, values: number[]): string => {
    const name = names.fresh(base);
    const data = type === DataType.INT64 ? BigInt64Array.from(values.map(BigInt)) : Float32Array.from(values);
    graph.initializer.push(tensorFromTypedArray(name, type, [values.length], data));
    return name;
  };
  // Scalars would suit the fill threshold and zero, but rank-1 constants broadcast the same way and need no special case.
  const flat = constant("trtforge_tap_flat_shape", DataType.INT64, [-1]);
  const ends = constant("trtforge_tap_ends", DataType.INT64, [Number.MAX_SAFE_INTEGER]);
  const axes = constant("trtforge_tap_axes", DataType.INT64, [0]);
  const steps = constant("trtforge_tap_steps", DataType.INT64, [options.stride]);
  // Made only when a masked tap needs them: ONNX Runtime warns about unused initializers.
  let fill: string | undefined;
  let zero: string | undefined;
  const startInput = names.fresh("trtforge_sample_start");
  graph.input.push(createTensorValueInfo(startInput, DataType.INT64, [1]));

  const keepdimsOff = () => [intAttr("keepdims", 0)];
  // Tap nodes by the tensor they read; placed at the end of the graph in an order chosen below.
  const tapNodes = new Map<string, NodeProto[]>();
  let tapping = "";
  const add = (op: string, inputs: string[], base: string, attribute: NodeProto["attribute"] = []): string => {
    const output = names.fresh(base);
    tapNodes.get(tapping)!.push(createNode({ op_type: op, input: inputs, output: [output], name: names.fresh(`${base}_node`), attribute }));
    return output;
  };
  const { producers } = indexGraph(graph);
  const nonnegative = (tensor: string) => {
    const producer = producers.get(tensor);
    return producer !== undefined && isStandardDomain(producer) && NONNEGATIVE_OPS.has(producer.op_type);
  };
  const taps: SampleTap[] = [];
  for (const tensor of tensors) {
    const masked = options.masked?.has(tensor) ?? false;
    const base = `${tensor}__trtforge_tap`;
    tapping = tensor;
    tapNodes.set(tensor, []);
    const flatValues = add("Reshape", [tensor, flat], `${base}_flat`);
    const sampleOutput = add("Slice", [flatValues, startInput, ends, axes, steps], `${base}_sample`);
    let maxAbsOutput: string;
    if (masked) {
      fill ??= constant("trtforge_tap_fill", DataType.FLOAT, [options.fillMagnitude]);
      zero ??= constant("trtforge_tap_zero", DataType.FLOAT, [0]);
      const abs = add("Abs", [tensor], `${base}_abs`);
      const usable = add("Less", [abs, fill], `${base}_usable`);
      const kept = add("Where", [usable, abs, zero], `${base}_kept`);
      maxAbsOutput = add("ReduceMax", [kept], `${base}_max_abs`, keepdimsOff());
    } else if (nonnegative(tensor)) {
      maxAbsOutput = add("ReduceMax", [tensor], `${base}_max_abs`, keepdimsOff());
    } else {
      const high = add("ReduceMax", [tensor], `${base}_max`, keepdimsOff());
      const low = add("ReduceMin", [tensor], `${base}_min`, keepdimsOff());
      maxAbsOutput = add("Max", [high, add("Neg", [low], `${base}_neg_min`)], `${base}_max_abs`);
    }
    graph.output.push(createTensorValueInfo(sampleOutput, DataType.FLOAT, ["trtforge_sample_length"]));
    graph.output.push(createTensorValueInfo(maxAbsOutput, DataType.FLOAT, []));
    taps.push({ tensor, sampleOutput, maxAbsOutput, masked });
  }
  // ONNX Runtime's default execution order is a depth-first walk back from the graph's leaf nodes,
  // taking the leaf with the highest index first. With the taps last and in reverse graph order,
  // the first walk goes from the tap of the earliest tensor back to the inputs, and each next one
  // adds only the model nodes up to its tensor: each tap runs right after its tensor is made, while
  // the tensor is in cache, instead of all of them after the whole model (measured on MiniLM, every
  // float activation: that order held every tapped tensor until the end of the run).
  const position = new Map<string, number>();
  graph.node.forEach((n, index) => n.output.forEach((output) => position.set(output, index)));
  const latestFirst = [...tapNodes.keys()].sort((a, b) => (position.get(b) ?? -1) - (position.get(a) ?? -1));
  graph.node = [...graph.node, ...latestFirst.flatMap((tensor) => tapNodes.get(tensor)!)];
  return { model: copy, startInput, taps };
}
