import {
  buildModel as buildFromParts,
  createNode,
  createTensorValueInfo,
  DataType,
  intAttr,
  tensorFromTypedArray,
  type ModelParts,
  type NodeProto,
  type OnnxModel,
  type TensorProto,
} from "../../src/index.js";

export { intAttr };

export function node(op_type: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto {
  return createNode({ op_type, input, output, name: `${op_type}_${output[0]}`, ...extra });
}

export function floatTensor(name: string, dims: number[], values: number[]): TensorProto {
  return tensorFromTypedArray(name, DataType.FLOAT, dims, Float32Array.from(values));
}

/** A model built in TypeScript: opset 18, IR 10, the nodes in the order given. */
export function buildModel(parts: Omit<ModelParts, "producer">): OnnxModel {
  return buildFromParts({ ...parts, producer: "onnx-graph-test" });
}

export const value = createTensorValueInfo;
export const FLOAT = DataType.FLOAT;
