import { intAttribute } from "./attributes.js";
import { tensorElemTypes } from "./elem-types.js";
import { indexGraph, isStandardDomain, type GraphIndex } from "./graph-index.js";
import { mainGraph, type OnnxModel } from "./model.js";
import { DataType, type NodeProto } from "./proto-types.js";
import { tensorDims } from "./tensor-data.js";

export type QuantizableOp = "MatMul" | "Gemm" | "Conv";

export interface QuantizationWeight {
  /** The float32 initializer. */
  tensor: string;
  /** Which input of the node it is. */
  inputIndex: number;
  /** The output-channel axis of the weight, for per-channel scales; undefined for a 1-D weight. */
  axis: number | undefined;
}

export interface QuantizationSite {
  /** Position of the node in graph.node (node names may be empty). */
  nodeIndex: number;
  nodeName: string;
  opType: QuantizableOp;
  /** Inputs computed at run time (neither initializers nor Constant outputs), in input order. */
  activations: { tensor: string; inputIndex: number }[];
  weight: QuantizationWeight | undefined;
}

const QUANTIZABLE_OPS: ReadonlySet<string> = new Set<QuantizableOp>(["MatMul", "Gemm", "Conv"]);
const DATA_INPUTS = 2; // MatMul/Gemm A and B, Conv X and W; Gemm's C and Conv's bias stay float.

/** Tensors known at build time: initializers and Constant outputs. */
function isConstant(index: GraphIndex, tensor: string): boolean {
  return index.initializers.has(tensor) || index.producers.get(tensor)?.op_type === "Constant";
}

function weightAxis(node: NodeProto, inputIndex: number, rank: number): number | undefined {
  if (rank < 2) return undefined;
  switch (node.op_type) {
    case "Conv":
      return 0; // [M, C/group, k...]: one scale per output channel M
    case "Gemm": {
      // B is [K, N], or [N, K] with transB=1; A (rare as the weight) is [M, K] or [K, M].
      const transposed = intAttribute(node, inputIndex === 1 ? "transB" : "transA", 0) === 1;
      return inputIndex === 1 ? (transposed ? 0 : 1) : transposed ? 1 : 0;
    }
    default:
      // MatMul x·W with W [..., K, N]: per N (last axis); W·x with W [..., M, K]: per M.
      return inputIndex === 1 ? rank - 1 : rank - 2;
  }
}

/**
 * Every MatMul, Gemm and Conv of the main graph with float inputs: its run-time (activation)
 * inputs and, when one data input is a float32 initializer, that weight with its per-channel axis.
 * Nodes with no activation input (constant folding leftovers) are not sites.
 */
export function quantizationSites(model: OnnxModel): QuantizationSite[] {
  const graph = mainGraph(model);
  const index = indexGraph(graph);
  const types = tensorElemTypes(model);
  const sites: QuantizationSite[] = [];
  graph.node.forEach((node, nodeIndex) => {
    if (!QUANTIZABLE_OPS.has(node.op_type) || !isStandardDomain(node)) return;
    const activations: QuantizationSite["activations"] = [];
    let weight: QuantizationWeight | undefined;
    let quantizable = true;
    node.input.slice(0, DATA_INPUTS).forEach((tensor, inputIndex) => {
      if (tensor === "") return;
      const initializer = index.initializers.get(tensor);
      if (initializer !== undefined) {
        if (initializer.data_type !== DataType.FLOAT) quantizable = false;
        else weight = { tensor, inputIndex, axis: weightAxis(node, inputIndex, tensorDims(initializer).length) };
      } else if (!isConstant(index, tensor)) {
        // An activation of known non-float type (an integer MatMul) is nothing to quantize.
        const type = types.get(tensor);
        if (type !== undefined && type !== DataType.FLOAT) quantizable = false;
        activations.push({ tensor, inputIndex });
      }
    });
    if (!quantizable || activations.length === 0) return;
    sites.push({ nodeIndex, nodeName: node.name, opType: node.op_type as QuantizableOp, activations, weight });
  });
  return sites;
}

/**
 * Every float32 tensor computed at run time, in graph order: float graph inputs, then float
 * outputs of nodes other than Constant. Initializers and constants are left out. These are the
 * tensors a TensorRT implicit-INT8 calibration cache lists.
 */
export function floatActivations(model: OnnxModel): string[] {
  const graph = mainGraph(model);
  const types = tensorElemTypes(model);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const result = new Set<string>();
  for (const input of graph.input) {
    if (!initializers.has(input.name) && types.get(input.name) === DataType.FLOAT) result.add(input.name);
  }
  for (const node of graph.node) {
    if (node.op_type === "Constant") continue;
    for (const output of node.output) {
      if (output !== "" && types.get(output) === DataType.FLOAT) result.add(output);
    }
  }
  return [...result];
}
