import { int64ToNumber } from "./int64.js";
import { AttributeType, type AttributeProto, type NodeProto, type TensorProto } from "./proto-types.js";
import { createAttribute } from "./schema.js";

export function findAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute?.i === undefined ? fallback : int64ToNumber(attribute.i);
}

export function tensorAttribute(node: NodeProto, name: string): TensorProto | undefined {
  return findAttribute(node, name)?.t ?? undefined;
}

export function intAttr(name: string, value: number): AttributeProto {
  return createAttribute({ name, type: AttributeType.INT, i: value });
}

export function tensorAttr(name: string, value: TensorProto): AttributeProto {
  return createAttribute({ name, type: AttributeType.TENSOR, t: value });
}

/** True for If, Loop, Scan and anything else carrying a subgraph. */
export function hasSubgraph(node: NodeProto): boolean {
  return node.attribute.some((a) => (a.g !== null && a.g !== undefined) || a.graphs.length > 0);
}
