import {
  constantValue,
  DataType,
  float32View,
  isStandardDomain,
  mainGraph,
  tensorElemTypes,
  type OnnxModel,
  type TensorProto,
} from "@trtforge/onnx-graph";

/**
 * Ops whose float outputs stay bounded whatever their inputs (a fill or an infinity maps to a
 * finite value): a mask fill does not reach past them.
 */
const BOUNDED_OPS: ReadonlySet<string> = new Set(["Softmax", "Sigmoid", "Tanh", "Erf"]);

const FLOAT_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

function holdsFill(tensor: TensorProto, fillMagnitude: number): boolean {
  if (tensor.data_type !== DataType.FLOAT) return false;
  const values = float32View(tensor);
  const low = -fillMagnitude;
  // NaN fails both comparisons. An indexed loop: this reads every weight of the model once.
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!(value < fillMagnitude && value > low)) return true;
  }
  return false;
}

/**
 * The float tensors that may carry mask fills (|x| ≥ fillMagnitude, ±inf) or NaN, judged from
 * the graph: a float constant holding one (the float32-lowest an exporter writes for masked
 * attention), and every float tensor computed from such a tensor up to an op whose output is
 * bounded (a shape, a mask or an index computed from one carries no fill).
 * Calibration taps these with a masked max from the start (see withSampleTaps), instead of finding
 * out in the first run and building the session again. A tensor missed here is still caught at run
 * time; one named needlessly only costs a slower max.
 */
export function tensorsThatMayHoldFills(model: OnnxModel, fillMagnitude: number): Set<string> {
  const graph = mainGraph(model);
  const types = tensorElemTypes(model);
  const tainted = new Set<string>();
  for (const initializer of graph.initializer) if (holdsFill(initializer, fillMagnitude)) tainted.add(initializer.name);
  // Nodes are in topological order (an ONNX requirement), so one pass propagates.
  for (const node of graph.node) {
    const standard = isStandardDomain(node);
    if (standard && node.op_type === "Constant") {
      const value = constantValue(node);
      if (value !== undefined && holdsFill(value, fillMagnitude)) tainted.add(node.output[0]!);
      continue;
    }
    if (standard && BOUNDED_OPS.has(node.op_type)) continue;
    if (!node.input.some((input) => tainted.has(input))) continue;
    for (const output of node.output) if (FLOAT_TYPES.has(types.get(output) ?? DataType.FLOAT)) tainted.add(output);
  }
  return tainted;
}
