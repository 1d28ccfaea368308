import { float32ArrayToFloat16, ForgeError } from "@trtforge/core";
import { findAttribute, hasSubgraph, intAttr, tensorAttr } from "./attributes.js";
import { constantValue } from "./constant-value.js";
import { tensorElemTypes } from "./elem-types.js";
import { indexGraph, NameAllocator } from "./graph-index.js";
import { cloneModel, mainGraph, type OnnxModel } from "./model.js";
import { int64ToNumber } from "./int64.js";
import { DataType, type NodeProto, type TensorProto } from "./proto-types.js";
import { createNode } from "./schema.js";
import { readFloat32, tensorDims, tensorFromTypedArray } from "./tensor-data.js";

/** Ops kept in float32 by default: reductions, normalization and the exp/log/pow family. */
export const DEFAULT_KEEP_FP32_OP_TYPES: readonly string[] = [
  "LayerNormalization",
  "ReduceMean",
  "ReduceSum",
  "Pow",
  "Sqrt",
  "Reciprocal",
  "Softmax",
  "Exp",
  "Log",
  "Erf",
];

/**
 * Ops that stay float32 whatever the keep list says: ONNX gives Range (and IsInf before opset 20)
 * no float16 type, and Q/DQ scales must be float32 before opset 19.
 */
const FLOAT32_ONLY_OPS: ReadonlySet<string> = new Set(["Range", "IsInf", "QuantizeLinear", "DequantizeLinear"]);

/** Elementwise ops that join a float32 island when their inputs come from one (see below). */
const ISLAND_OPS: ReadonlySet<string> = new Set(["Add", "Sub", "Mul", "Div"]);

export interface Fp16Options {
  /** Op types computed in float32 with Casts around them; replaces DEFAULT_KEEP_FP32_OP_TYPES. */
  keepFp32OpTypes?: readonly string[];
}

type Precision = 16 | 32;

const FLOAT_TYPE: Record<Precision, number> = { 16: DataType.FLOAT16, 32: DataType.FLOAT };

function float16Tensor(name: string, tensor: TensorProto): TensorProto {
  const { bits } = float32ArrayToFloat16(readFloat32(tensor));
  return tensorFromTypedArray(name, DataType.FLOAT16, tensorDims(tensor), bits);
}

function castNode(name: string, input: string, output: string, to: Precision): NodeProto {
  return createNode({ op_type: "Cast", name, input: [input], output: [output], attribute: [intAttr("to", FLOAT_TYPE[to])] });
}

/**
 * A float16 copy of the model for strongly typed TensorRT: float32 initializers, constants and
 * activations become float16, while
 * - graph inputs and outputs keep their types (Cast after a float input, before a float output);
 * - ops in the keep list run in float32, with Casts to float32 before and to float16 after;
 * - an Add/Sub/Mul/Div whose float inputs all come from float32 ops or constants (with at least
 *   one from an op), or a Div whose divisor comes from a float32 op, stays float32 too. That keeps
 *   a decomposed layer norm (ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, Mul, Add) and
 *   the 1 + erf(x) of GELU in float32 without pattern matching, and its 1e-12 epsilon from
 *   flushing to 0;
 * - float constants beyond the float16 range are clamped to ±65504 (the attention mask's
 *   finfo(float32).min fill becomes -65504: still "minus a lot" before Softmax, and finite, so
 *   that 0 * fill and fill - fill cannot turn into NaN);
 * - a constant read in both precisions exists twice, each converted from the float32 original.
 * value_info entries of tensors that became float16 are updated. Graphs with subgraphs (If, Loop,
 * Scan) and tensors of unknown element type are refused.
 */
export function convertToFp16(model: OnnxModel, options: Fp16Options = {}): OnnxModel {
  const keep = new Set(options.keepFp32OpTypes ?? DEFAULT_KEEP_FP32_OP_TYPES);
  const types = tensorElemTypes(model);
  const copy = cloneModel(model);
  const graph = mainGraph(copy);
  for (const node of graph.node) {
    if (hasSubgraph(node)) {
      throw new ForgeError(
        "INVALID_ARGUMENT",
        `convertToFp16 does not convert graphs with control flow (node ${node.name || node.op_type} has a subgraph)`,
        {
          fix: "convert a model without If/Loop/Scan, or let TensorRT choose fp16 kernels from the float32 model",
        },
      );
    }
    for (const output of node.output) {
      if (output !== "" && !types.has(output)) {
        throw new ForgeError(
          "INVALID_ARGUMENT",
          `convertToFp16 cannot tell the element type of ${output} (output of ${node.op_type} ${node.name})`,
          {
            input: output,
            fix: "run onnx shape inference on the model first so that value_info declares the type",
          },
        );
      }
    }
  }
  const isFloat = (tensor: string): boolean => tensor !== "" && types.get(tensor) === DataType.FLOAT;
  const index = indexGraph(graph);
  const names = new NameAllocator(graph);
  const floatConstantNodes = new Map(
    graph.node.filter((n) => n.op_type === "Constant" && isFloat(n.output[0] ?? "")).map((n) => [n.output[0]!, n]),
  );
  // An initializer also listed as a graph input is a default the caller may override: an input.
  const isConstant = (tensor: string): boolean =>
    (index.initializers.has(tensor) && !index.inputs.has(tensor)) || floatConstantNodes.has(tensor);

  // 1. The precision each op computes in.
  const precisionOf = new Map<NodeProto, Precision>();
  const producedIn = (tensor: string): Precision | undefined => {
    const producer = index.producers.get(tensor);
    return producer === undefined ? undefined : precisionOf.get(producer);
  };
  for (const node of graph.node) {
    if (node.op_type === "Constant") continue;
    let precision: Precision = 16;
    const standard = node.domain === "" || node.domain === "ai.onnx";
    if (!standard || keep.has(node.op_type) || FLOAT32_ONLY_OPS.has(node.op_type)) precision = 32;
    else if (ISLAND_OPS.has(node.op_type)) {
      const floats = node.input.filter(isFloat);
      const fromFloat32Ops = floats.filter((t) => producedIn(t) === 32);
      if (fromFloat32Ops.length > 0 && floats.every((t) => isConstant(t) || producedIn(t) === 32)) precision = 32;
      else if (node.op_type === "Div" && node.input[1] !== undefined && producedIn(node.input[1]) === 32) precision = 32;
    }
    precisionOf.set(node, precision);
  }

  // 2. Which precisions each float tensor is read in.
  const readIn = new Map<string, Set<Precision>>();
  const need = (tensor: string, precision: Precision): void => {
    let set = readIn.get(tensor);
    if (set === undefined) readIn.set(tensor, (set = new Set()));
    set.add(precision);
  };
  for (const [node, precision] of precisionOf) for (const input of node.input) if (isFloat(input)) need(input, precision);
  for (const output of graph.output) if (isFloat(output.name)) need(output.name, 32);

  // 3. Names: where each tensor can be read in each precision, and the Casts and copies that takes.
  const nameIn = new Map<string, Partial<Record<Precision, string>>>();
  const castsAfter = new Map<string, NodeProto[]>();
  const outputRenames = new Map<string, string>();
  const float16Copies = new Map<string, string>();
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  for (const [tensor, precisions] of readIn) {
    if (isConstant(tensor)) {
      const both = precisions.has(32) || graphOutputs.has(tensor);
      if (!precisions.has(16)) continue;
      const name16 = both ? names.fresh(`${tensor}_fp16`) : tensor;
      float16Copies.set(tensor, name16);
      nameIn.set(tensor, { 16: name16, ...(both ? { 32: tensor } : {}) });
      continue;
    }
    const home: Precision = index.producers.has(tensor) ? producedIn(tensor)! : 32;
    let homeName = tensor;
    const casts: NodeProto[] = [];
    if (home === 16 && graphOutputs.has(tensor)) {
      homeName = names.fresh(`${tensor}_fp16`);
      outputRenames.set(tensor, homeName);
      casts.push(castNode(names.fresh(`${tensor}_Cast`), homeName, tensor, 32));
    }
    const entry: Partial<Record<Precision, string>> = { [home]: homeName };
    for (const precision of precisions) {
      if (precision === home || entry[precision] !== undefined) continue;
      if (precision === 32 && graphOutputs.has(tensor)) {
        entry[32] = tensor;
        continue;
      }
      const castName = names.fresh(`${tensor}_fp${precision}`);
      casts.push(castNode(names.fresh(`${tensor}_Cast_fp${precision}`), homeName, castName, precision));
      entry[precision] = castName;
    }
    nameIn.set(tensor, entry);
    if (casts.length > 0) castsAfter.set(tensor, casts);
  }

  // 4. Rewrite the ops.
  const nodes: NodeProto[] = [];
  for (const input of graph.input) nodes.push(...(castsAfter.get(input.name) ?? []));
  for (const node of graph.node) {
    const outputs = [...node.output];
    if (node.op_type === "Constant") {
      nodes.push(...constantNodes(node, float16Copies, names));
    } else {
      const precision = precisionOf.get(node)!;
      node.input = node.input.map((input) => (isFloat(input) ? (nameIn.get(input)?.[precision] ?? input) : input));
      node.output = node.output.map((output) => outputRenames.get(output) ?? output);
      if (precision === 16) retypeAttributes(node);
      nodes.push(node);
    }
    for (const output of outputs) nodes.push(...(castsAfter.get(output) ?? []));
  }
  graph.node = nodes;

  // 5. Initializers: converted in place, or a float16 copy beside a float32 one still read.
  const initializers: TensorProto[] = [];
  for (const tensor of graph.initializer) {
    const name16 = float16Copies.get(tensor.name);
    if (name16 === undefined || tensor.data_type !== DataType.FLOAT) initializers.push(tensor);
    else if (name16 === tensor.name) initializers.push(float16Tensor(tensor.name, tensor));
    else initializers.push(tensor, float16Tensor(name16, tensor));
  }
  graph.initializer = initializers;

  // 6. value_info follows the tensors that are now float16 under their own name.
  for (const value of graph.value_info) {
    const tensorType = value.type?.tensor_type;
    if (!tensorType || tensorType.elem_type !== DataType.FLOAT) continue;
    const entry = nameIn.get(value.name);
    const becameFloat16 = entry?.[16] === value.name || (!entry && producedIn(value.name) === 16 && !outputRenames.has(value.name));
    if (becameFloat16) tensorType.elem_type = DataType.FLOAT16;
  }
  return copy;
}

/** A float Constant read in float16 becomes float16; read in both precisions it is duplicated. */
function constantNodes(node: NodeProto, float16Copies: ReadonlyMap<string, string>, names: NameAllocator): NodeProto[] {
  const output = node.output[0] ?? "";
  const name16 = float16Copies.get(output);
  const value = name16 === undefined ? undefined : constantValue(node);
  if (name16 === undefined || value === undefined) return [node];
  const value16 = float16Tensor(value.name, value);
  if (name16 === output) {
    node.attribute = [tensorAttr("value", value16)];
    return [node];
  }
  const copy = createNode({
    op_type: "Constant",
    name: names.fresh(`${node.name || output}_fp16`),
    input: [],
    output: [name16],
    attribute: [tensorAttr("value", value16)],
  });
  return [node, copy];
}

/** Attributes that name a float32 result type, in an op that now computes in float16. */
function retypeAttributes(node: NodeProto): void {
  if (node.op_type === "Cast") {
    const to = findAttribute(node, "to");
    if (to?.i !== undefined && int64ToNumber(to.i) === DataType.FLOAT) to.i = DataType.FLOAT16;
  } else if (node.op_type === "ConstantOfShape") {
    const value = findAttribute(node, "value");
    if (value?.t && value.t.data_type === DataType.FLOAT) value.t = float16Tensor(value.t.name, value.t);
    // Without a value the op makes float32 zeros; say float16 zeros instead.
    else if (value === undefined)
      node.attribute.push(tensorAttr("value", tensorFromTypedArray("", DataType.FLOAT16, [1], new Uint16Array(1))));
  }
}
