import { floatActivations, mainGraph, quantizationSites, type OnnxModel } from "@trtforge/onnx-graph";

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

export interface CalibrationTensors {
  /** Every tensor that gets a scale, in graph order. */
  tensors: string[];
  /** The tensors ONNX Runtime must output: `tensors` minus those read through a source. */
  fetched: string[];
  /** Tensor → the fetched tensor whose histogram it shares (itself when fetched). */
  histogramOf: Map<string, string>;
}

function selectedNames(model: OnnxModel, scope: TensorScope): string[] {
  if (scope === "all-float") return floatActivations(model);
  const names = new Set<string>();
  for (const site of quantizationSites(model)) for (const a of site.activations) names.add(a.tensor);
  // Graph order, like floatActivations, so that caches and reports list tensors as the model does.
  return floatActivations(model).filter((n) => names.has(n));
}

/**
 * The tensors to calibrate and how to read them. A Reshape/Transpose/Squeeze/Unsqueeze/Flatten/
 * Identity output whose data input is itself calibrated is not fetched from ONNX Runtime: it shares
 * the input's histogram (chains resolve to the first tensor). This changes no scale and saves the
 * copy and the pass over those tensors (about 15% of a BERT's activation volume).
 */
export function calibrationTensors(model: OnnxModel, scope: TensorScope): CalibrationTensors {
  const tensors = selectedNames(model, scope);
  const selected = new Set(tensors);
  const graph = mainGraph(model);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const sourceOf = new Map<string, string>();
  for (const node of graph.node) {
    if (!VALUE_PRESERVING_OPS.has(node.op_type) || (node.domain !== "" && node.domain !== "ai.onnx")) continue;
    const input = node.input[0];
    const output = node.output[0];
    if (input === undefined || output === undefined || input === "" || output === "") continue;
    // A graph output is fetched anyway, so aliasing it saves nothing.
    if (selected.has(input) && selected.has(output) && !graphOutputs.has(output)) sourceOf.set(output, input);
  }
  const histogramOf = new Map<string, string>();
  const resolve = (name: string): string => {
    const known = histogramOf.get(name);
    if (known !== undefined) return known;
    const source = sourceOf.get(name);
    const root = source === undefined ? name : resolve(source);
    histogramOf.set(name, root);
    return root;
  };
  for (const name of tensors) resolve(name);
  const fetched = tensors.filter((n) => histogramOf.get(n) === n);
  return { tensors, fetched, histogramOf };
}
