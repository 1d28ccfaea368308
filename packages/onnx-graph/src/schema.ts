import { readFileSync } from "node:fs";
import { fsError } from "@trtforge/core";
import Long from "long";
import protobuf from "protobufjs";
import type {
  AttributeProto,
  ModelProto,
  NodeProto,
  StringStringEntryProto,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from "./proto-types.js";
import { locateOnnxSchema, unusableSchema, type OnnxSchemaSource } from "./schema-source.js";

export interface OnnxSchema {
  readonly ModelProto: protobuf.Type;
  readonly GraphProto: protobuf.Type;
  readonly NodeProto: protobuf.Type;
  readonly TensorProto: protobuf.Type;
  readonly ValueInfoProto: protobuf.Type;
  readonly AttributeProto: protobuf.Type;
  readonly TypeProto: protobuf.Type;
  readonly StringStringEntryProto: protobuf.Type;
  /** The schema's IR_VERSION (enum onnx.Version): the newest IR the schema describes. */
  readonly irVersion: number;
  readonly source: OnnxSchemaSource;
}

let schema: OnnxSchema | undefined;

/**
 * The reflected onnx.proto types, parsed once per process from the pinned onnx package of the
 * project's Python environment (see schema-source.ts; PYTHON_UNAVAILABLE when it is missing).
 * Reflection (rather than generated code) means a newer onnx pin needs no change here, and every
 * field the schema knows survives a decode/encode.
 */
export function onnxSchema(): OnnxSchema {
  if (schema !== undefined) return schema;
  // int64 fields must decode to Long, not to a lossy double (Slice ends hold INT64_MAX).
  if (!protobuf.util.Long) {
    protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
    protobuf.configure();
  }
  const source = locateOnnxSchema();
  let text: string;
  try {
    text = readFileSync(source.path, "utf8");
  } catch (err) {
    throw fsError(err, source.path, "reading the ONNX schema");
  }
  let root: protobuf.Root;
  try {
    root = protobuf.parse(text, { keepCase: true }).root;
  } catch (err) {
    throw unusableSchema(source, `does not parse: ${(err as Error).message}`, err);
  }
  const type = (name: string): protobuf.Type => root.lookupType(`onnx.${name}`);
  const irVersion = root.lookupEnum("onnx.Version").values.IR_VERSION;
  if (irVersion === undefined) {
    throw unusableSchema(source, "has no Version.IR_VERSION");
  }
  schema = {
    ModelProto: type("ModelProto"),
    GraphProto: type("GraphProto"),
    NodeProto: type("NodeProto"),
    TensorProto: type("TensorProto"),
    ValueInfoProto: type("ValueInfoProto"),
    AttributeProto: type("AttributeProto"),
    TypeProto: type("TypeProto"),
    StringStringEntryProto: type("StringStringEntryProto"),
    irVersion,
    source,
  };
  return schema;
}

/*
 * Builders for new messages. They go through the reflected constructors so that created messages
 * look like decoded ones: repeated fields are arrays and absent scalars read as proto defaults.
 */

export function createNode(fields: Partial<NodeProto> & Pick<NodeProto, "op_type" | "input" | "output">): NodeProto {
  return onnxSchema().NodeProto.create(fields) as unknown as NodeProto;
}

export function createTensor(fields: Partial<TensorProto> & Pick<TensorProto, "name" | "data_type" | "dims">): TensorProto {
  return onnxSchema().TensorProto.create(fields) as unknown as TensorProto;
}

export function createAttribute(fields: Partial<AttributeProto> & Pick<AttributeProto, "name" | "type">): AttributeProto {
  return onnxSchema().AttributeProto.create(fields) as unknown as AttributeProto;
}

export function createEntry(key: string, value: string): StringStringEntryProto {
  return onnxSchema().StringStringEntryProto.create({ key, value }) as unknown as StringStringEntryProto;
}

/**
 * A tensor ValueInfoProto. Without `shape` the rank is left unknown, which onnxruntime accepts
 * but onnx's checker refuses for graph inputs and outputs; dims are sizes or symbolic names.
 */
export function createTensorValueInfo(name: string, elemType: number, shape?: readonly (number | string)[]): ValueInfoProto {
  const { ValueInfoProto, TypeProto } = onnxSchema();
  const dims = shape?.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d }));
  const tensorType = { elem_type: elemType, ...(dims === undefined ? {} : { shape: { dim: dims } }) };
  const type = TypeProto.create({ tensor_type: tensorType }) as unknown as TypeProto;
  return ValueInfoProto.create({ name, type }) as unknown as ValueInfoProto;
}

export function decodeModelProto(bytes: Uint8Array): ModelProto {
  const reader = protobuf.Reader.create(bytes);
  // Fields newer than the pinned schema are kept (as raw bytes) and written back on encode.
  reader.discardUnknown = false;
  return onnxSchema().ModelProto.decode(reader) as unknown as ModelProto;
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  return onnxSchema()
    .ModelProto.encode(model as unknown as protobuf.Message)
    .finish();
}
