import {
  createNode,
  createTensorValueInfo,
  DataType,
  decodeOnnxModel,
  intAttr,
  tensorFromTypedArray,
  type NodeProto,
  type OnnxModel,
  type TensorProto,
  type ValueInfoProto,
} from "../../src/index.js";
import { encodeModelProto, onnxSchema } from "../../src/schema.js";

export { intAttr };

export function node(op_type: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto {
  return createNode({ op_type, input, output, name: `${op_type}_${output[0]}`, ...extra });
}

export function floatTensor(name: string, dims: number[], values: number[]): TensorProto {
  return tensorFromTypedArray(name, DataType.FLOAT, dims, Float32Array.from(values));
}

/** A model built in TypeScript: opset 18, IR 10, the nodes in the order given. */
export function buildModel(parts: {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  opset?: number;
}): OnnxModel {
  const proto = onnxSchema().ModelProto.create({
    ir_version: 10,
    opset_import: [{ domain: "", version: parts.opset ?? 18 }],
    producer_name: "onnx-graph-test",
    graph: {
      name: "test",
      node: parts.nodes,
      input: parts.inputs,
      output: parts.outputs,
      initializer: parts.initializers ?? [],
    },
  });
  // Through bytes, so that the model is made of decoded messages like a loaded one.
  return decodeOnnxModel(encodeModelProto(proto as never));
}

export const value = createTensorValueInfo;
export const FLOAT = DataType.FLOAT;
