import {
  constantValue,
  DataType,
  floatActivations,
  isStandardDomain,
  mainGraph,
  quantizationSites,
  readFloat32,
  tensorDims,
  type GraphProto,
  type NodeProto,
  type OnnxModel,
  type TensorProto,
} from "@trtforge/onnx-graph";

/**
 * Which tensors to calibrate: "all-float" is every float activation (what a TensorRT implicit-INT8
 * cache lists); "quantization-sites" only the activation inputs of MatMul/Gemm/Conv (what a Q/DQ
 * model needs).
 */
export type TensorScope = "all-float" | "quantization-sites";

export const TENSOR_SCOPES: readonly TensorScope[] = ["all-float", "quantization-sites"];

/**
 * Ops whose output holds exactly the values of their data input, only rearranged: the |x|
 * histogram, hence the scale, of the output equals the input's.
 */
const VALUE_PRESERVING_OPS: ReadonlySet<string> = new Set(["Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity"]);

/**
 * Multiplying by a constant c scales the |x| histogram by |c| bin for bin, so every threshold
 * (entropy, percentile, max) scales by |c| too. Kept to factors that cannot move a value across
 * the mask-fill line (1e30) that a direct histogram would draw.
 */
const MIN_FACTOR = 1e-4;
const MAX_FACTOR = 1e4;

export interface DerivedScale {
  /** The fetched tensor whose histogram decides. */
  source: string;
  /** This tensor's amax is the source's times this (1 for value-preserving copies). */
  factor: number;
}

export interface CalibrationTensors {
  /** Every tensor that gets a scale, in graph order. */
  tensors: string[];
  /** The tensors ONNX Runtime must output: `tensors` minus those derived from another. */
  fetched: string[];
  /** Tensor → where its amax comes from; a fetched tensor maps to itself with factor 1. */
  derivedFrom: Map<string, DerivedScale>;
}

function selectedNames(model: OnnxModel, scope: TensorScope): string[] {
  if (scope === "all-float") return floatActivations(model);
  const names = new Set<string>();
  for (const site of quantizationSites(model)) for (const a of site.activations) names.add(a.tensor);
  // Graph order, like floatActivations, so that caches and reports list tensors as the model does.
  return floatActivations(model).filter((n) => names.has(n));
}

/** The value of a one-element float32 initializer or Constant, else undefined. */
function scalarConstants(graph: GraphProto): Map<string, number> {
  const scalars = new Map<string, number>();
  const take = (name: string, tensor: TensorProto | null | undefined) => {
    if (tensor === null || tensor === undefined || tensor.data_type !== DataType.FLOAT) return;
    if (tensorDims(tensor).reduce((a, b) => a * b, 1) !== 1) return;
    scalars.set(name, readFloat32(tensor)[0]!);
  };
  for (const tensor of graph.initializer) take(tensor.name, tensor);
  for (const node of graph.node) {
    if (node.op_type === "Constant" && isStandardDomain(node) && node.output[0] !== undefined) take(node.output[0], constantValue(node));
  }
  return scalars;
}

/** The input this node's output is a scaled copy of, with the scale, when it is one. */
function scaledCopyOf(node: NodeProto, scalars: ReadonlyMap<string, number>): DerivedScale | undefined {
  const [a, b] = node.input;
  if (a === undefined || a === "") return undefined;
  if (VALUE_PRESERVING_OPS.has(node.op_type)) return { source: a, factor: 1 };
  if (b === undefined || b === "" || node.input.length !== 2) return undefined;
  let source: string;
  let factor: number;
  if (node.op_type === "Mul" && scalars.has(b)) [source, factor] = [a, Math.abs(scalars.get(b)!)];
  else if (node.op_type === "Mul" && scalars.has(a)) [source, factor] = [b, Math.abs(scalars.get(a)!)];
  else if (node.op_type === "Div" && scalars.has(b)) [source, factor] = [a, 1 / Math.abs(scalars.get(b)!)];
  else return undefined;
  return factor >= MIN_FACTOR && factor <= MAX_FACTOR ? { source, factor } : undefined;
}

/**
 * The tensors to calibrate and how to read them. An output that is a rearranged copy
 * (Reshape/Transpose/Squeeze/Unsqueeze/Flatten/Identity) or a constant multiple (Mul or Div by a
 * scalar constant) of another calibrated tensor is not fetched from ONNX Runtime: its amax is
 * derived from that tensor's (chains resolve to the first). The thresholds are the same as a
 * direct histogram's (to float rounding), and the copy-out and pass over those tensors are saved:
 * about a third of a BERT's activation volume.
 */
export function calibrationTensors(model: OnnxModel, scope: TensorScope, options: { derive?: boolean } = {}): CalibrationTensors {
  const tensors = selectedNames(model, scope);
  const selected = new Set(tensors);
  const graph = mainGraph(model);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const scalars = scalarConstants(graph);
  const direct = new Map<string, DerivedScale>();
  for (const node of options.derive === false ? [] : graph.node) {
    const output = node.output[0];
    // A graph output is fetched anyway, so deriving it saves nothing.
    if (!isStandardDomain(node) || output === undefined || !selected.has(output) || graphOutputs.has(output)) continue;
    const copy = scaledCopyOf(node, scalars);
    if (copy !== undefined && selected.has(copy.source)) direct.set(output, copy);
  }
  const derivedFrom = new Map<string, DerivedScale>();
  const resolve = (name: string): DerivedScale => {
    const known = derivedFrom.get(name);
    if (known !== undefined) return known;
    const step = direct.get(name);
    let root: DerivedScale = { source: name, factor: 1 };
    if (step !== undefined) {
      const upstream = resolve(step.source);
      const factor = upstream.factor * step.factor;
      if (factor >= MIN_FACTOR && factor <= MAX_FACTOR) root = { source: upstream.source, factor };
    }
    derivedFrom.set(name, root);
    return root;
  };
  for (const name of tensors) resolve(name);
  const fetched = tensors.filter((n) => derivedFrom.get(n)!.source === n);
  return { tensors, fetched, derivedFrom };
}
