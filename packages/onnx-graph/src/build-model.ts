import { onnxModel, type OnnxModel } from "./model.js";
import type { NodeProto, TensorProto, ValueInfoProto } from "./proto-types.js";
import { decodeModelProto, encodeModelProto, onnxSchema } from "./schema.js";

export interface ModelParts {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  /** Default-domain opset (default 18). */
  opset?: number;
  /** Default 10 (ONNX 1.16+; onnxruntime 1.30 reads up to 11). */
  irVersion?: number;
  producer?: string;
}

/** A model built from parts, its nodes in the order given (for tests and small helper graphs). */
export function buildModel(parts: ModelParts): OnnxModel {
  const proto = onnxSchema().ModelProto.create({
    ir_version: parts.irVersion ?? 10,
    opset_import: [{ domain: "", version: parts.opset ?? 18 }],
    producer_name: parts.producer ?? "trtforge",
    graph: {
      name: "graph",
      node: parts.nodes,
      input: parts.inputs,
      output: parts.outputs,
      initializer: parts.initializers ?? [],
    },
  });
  // Through bytes, so that the model is made of decoded messages like a loaded one.
  return onnxModel(decodeModelProto(encodeModelProto(proto as never)));
}
