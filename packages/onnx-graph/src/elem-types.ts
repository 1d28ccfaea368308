import { findAttribute, intAttribute, tensorAttribute } from "./attributes.js";
import { mainGraph, type OnnxModel } from "./model.js";
import { DataType, type NodeProto, type ValueInfoProto } from "./proto-types.js";

type TypeOf = (tensor: string) => number | undefined;
/** Element types of a node's outputs (undefined where the rule cannot tell). */
type Rule = (node: NodeProto, typeOf: TypeOf) => (number | undefined)[];

function allOutputs(node: NodeProto, type: number | undefined): (number | undefined)[] {
  return node.output.map(() => type);
}

/** The type of the first input among `indices` whose type is known (they share one type). */
function likeInputs(...indices: number[]): Rule {
  return (node, typeOf) => {
    for (const i of indices) {
      const input = node.input[i];
      const type = input === undefined || input === "" ? undefined : typeOf(input);
      if (type !== undefined) return allOutputs(node, type);
    }
    return allOutputs(node, undefined);
  };
}

const fixed =
  (type: number): Rule =>
  (node) =>
    allOutputs(node, type);

function constantType(node: NodeProto): number | undefined {
  const tensor = tensorAttribute(node, "value");
  if (tensor) return tensor.data_type;
  const sparse = findAttribute(node, "sparse_value")?.sparse_tensor;
  if (sparse?.values) return sparse.values.data_type;
  if (findAttribute(node, "value_float") || findAttribute(node, "value_floats")) return DataType.FLOAT;
  if (findAttribute(node, "value_int") || findAttribute(node, "value_ints")) return DataType.INT64;
  if (findAttribute(node, "value_string") || findAttribute(node, "value_strings")) return DataType.STRING;
  return undefined;
}

const RULES = new Map<string, Rule>();
function rule(ops: readonly string[], r: Rule): void {
  for (const op of ops) RULES.set(op, r);
}

rule(["Shape", "Size", "NonZero", "ArgMax", "ArgMin"], fixed(DataType.INT64));
rule(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf"], fixed(DataType.BOOL));
rule(["Cast"], (node) => allOutputs(node, intAttribute(node, "to", DataType.UNDEFINED) || undefined));
rule(["CastLike"], likeInputs(1));
rule(["Constant"], (node) => allOutputs(node, constantType(node)));
rule(["ConstantOfShape"], (node) => allOutputs(node, tensorAttribute(node, "value")?.data_type ?? DataType.FLOAT));
// Data movement: the output has the type of the data input.
rule(
  [
    "Gather",
    "GatherElements",
    "GatherND",
    "Reshape",
    "Transpose",
    "Slice",
    "Squeeze",
    "Unsqueeze",
    "Expand",
    "Identity",
    "Flatten",
    "Split",
    "Tile",
    "Pad",
    "Range",
    "Trilu",
    "ScatterND",
    "ScatterElements",
    "Resize",
    "CumSum",
    "DepthToSpace",
    "SpaceToDepth",
  ],
  likeInputs(0),
);
rule(["Where"], likeInputs(1, 2));
// Ops whose data inputs all share the output's type: any known input tells it.
rule(
  ["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sum", "Mean", "Concat", "MatMul", "Gemm", "Conv", "ConvTranspose", "Einsum"],
  (node, typeOf) => likeInputs(...node.input.keys())(node, typeOf),
);
// Unary math, Pow (whose exponent may have another type), normalization and reductions: like input 0.
rule(
  [
    "Pow",
    "Neg",
    "Abs",
    "Sqrt",
    "Reciprocal",
    "Exp",
    "Log",
    "Erf",
    "Tanh",
    "Sigmoid",
    "Relu",
    "LeakyRelu",
    "Elu",
    "Selu",
    "HardSigmoid",
    "Softplus",
    "Softsign",
    "Gelu",
    "Sin",
    "Cos",
    "Floor",
    "Ceil",
    "Round",
    "Sign",
    "Clip",
    "Softmax",
    "LogSoftmax",
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceSumSquare",
    "BatchNormalization",
    "InstanceNormalization",
    "GroupNormalization",
  ],
  likeInputs(0),
);
// Y like X; Mean and InvStdDev in stash_type (float unless set).
rule(["LayerNormalization"], (node, typeOf) => {
  const x = node.input[0] === undefined ? undefined : typeOf(node.input[0]);
  return node.output.map((_, i) => (i === 0 ? x : intAttribute(node, "stash_type", DataType.FLOAT)));
});
rule(["Dropout"], (node, typeOf) => node.output.map((_, i) => (i === 0 ? likeInputs(0)(node, typeOf)[0] : DataType.BOOL)));
rule(["TopK"], (node, typeOf) => node.output.map((_, i) => (i === 0 ? likeInputs(0)(node, typeOf)[0] : DataType.INT64)));
rule(["DequantizeLinear"], (node, typeOf) => {
  const scale = node.input[1] === undefined ? undefined : typeOf(node.input[1]);
  return allOutputs(node, intAttribute(node, "output_dtype", 0) || scale);
});
rule(["QuantizeLinear"], (node, typeOf) => {
  const zeroPoint = node.input[2];
  const fromZeroPoint = zeroPoint === undefined || zeroPoint === "" ? undefined : typeOf(zeroPoint);
  return allOutputs(node, fromZeroPoint ?? (intAttribute(node, "output_dtype", 0) || DataType.UINT8));
});

function declaredType(value: ValueInfoProto): number | undefined {
  const type = value.type?.tensor_type?.elem_type;
  return type === undefined || type === DataType.UNDEFINED ? undefined : type;
}

/**
 * Element type (TensorProto.DataType) of every tensor of the main graph whose type is declared or
 * can be derived: graph inputs, outputs and value_info first, initializers, Constant outputs, then
 * node outputs propagated over the ops transformer exports use. Tensors of other ops (and of
 * non-ONNX domains) without value_info are missing from the map.
 */
export function tensorElemTypes(model: OnnxModel): Map<string, number> {
  const graph = mainGraph(model);
  const types = new Map<string, number>();
  for (const value of [...graph.input, ...graph.output, ...graph.value_info]) {
    const type = declaredType(value);
    if (type !== undefined) types.set(value.name, type);
  }
  for (const tensor of graph.initializer)
    if (!types.has(tensor.name) && tensor.data_type !== DataType.UNDEFINED) types.set(tensor.name, tensor.data_type);
  for (const sparse of graph.sparse_initializer) {
    if (sparse.values && !types.has(sparse.values.name)) types.set(sparse.values.name, sparse.values.data_type);
  }
  const typeOf: TypeOf = (tensor) => types.get(tensor);
  // ONNX graphs are topologically sorted, so one pass normally settles everything; further
  // passes only help graphs that are not, and stop as soon as nothing changes.
  for (let pass = 0, changed = true; changed && pass < graph.node.length + 1; pass++) {
    changed = false;
    for (const node of graph.node) {
      if (node.domain !== "" && node.domain !== "ai.onnx") continue;
      const r = RULES.get(node.op_type);
      if (r === undefined || node.output.every((o) => o === "" || types.has(o))) continue;
      r(node, typeOf).forEach((type, i) => {
        const output = node.output[i];
        if (type === undefined || output === undefined || output === "" || types.has(output)) return;
        types.set(output, type);
        changed = true;
      });
    }
  }
  return types;
}
