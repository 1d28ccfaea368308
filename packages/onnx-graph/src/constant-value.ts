import { findAttribute } from "./attributes.js";
import { DataType, type NodeProto, type TensorProto } from "./proto-types.js";
import { tensorFromTypedArray } from "./tensor-data.js";

/** A Constant's float value as a tensor, whichever of value / value_float / value_floats holds it. */
export function constantValue(node: NodeProto): TensorProto | undefined {
  const tensor = findAttribute(node, "value")?.t;
  if (tensor) return tensor;
  const scalar = findAttribute(node, "value_float");
  if (scalar?.f !== undefined) return tensorFromTypedArray("", DataType.FLOAT, [], new Float32Array([scalar.f]));
  const list = findAttribute(node, "value_floats");
  if (list) return tensorFromTypedArray("", DataType.FLOAT, [list.floats.length], Float32Array.from(list.floats));
  return undefined;
}
