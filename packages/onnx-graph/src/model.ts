import { ForgeError } from "@trtforge/core";
import { int64ToNumber } from "./int64.js";
import type { GraphProto, ModelProto, ValueInfoProto } from "./proto-types.js";

/**
 * A loaded ONNX model: the decoded ModelProto with every tensor's data in memory (external data
 * already read). Functions of this package that edit a model return a new OnnxModel and leave
 * their argument as it was.
 */
export interface OnnxModel {
  readonly proto: ModelProto;
}

export function onnxModel(proto: ModelProto): OnnxModel {
  return { proto };
}

/** The main graph; a ModelProto without one is not a model any stage can use. */
export function mainGraph(model: OnnxModel): GraphProto {
  const graph = model.proto.graph;
  if (graph === null || graph === undefined) {
    throw new ForgeError("EXPORT_PROTOCOL", "the ONNX model has no graph", { fix: "re-export the model" });
  }
  return graph;
}

/** The opset version imported for `domain` ("" is the default ONNX domain), or undefined. */
export function opsetVersion(model: OnnxModel, domain = ""): number | undefined {
  const entry = model.proto.opset_import.find((o) => (o.domain === "ai.onnx" ? "" : o.domain) === domain);
  return entry === undefined ? undefined : int64ToNumber(entry.version);
}

function isLong(value: object): boolean {
  return (value as { __isLong__?: unknown }).__isLong__ === true;
}

function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  // Byte payloads are shared, never edited in place: a copy of a 1 GB model stays cheap.
  if (ArrayBuffer.isView(value) || isLong(value)) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => cloneValue(item)) as T;
  // Keep the prototype (it carries the proto defaults) and non-enumerable fields such as $unknowns.
  const copy = Object.create(Object.getPrototypeOf(value) as object) as T;
  for (const key of Object.getOwnPropertyNames(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    if ("value" in descriptor) descriptor.value = cloneValue(descriptor.value as unknown);
    Object.defineProperty(copy, key, descriptor);
  }
  return copy;
}

/** A deep copy whose messages can be edited without touching `model`; tensor bytes are shared. */
export function cloneModel(model: OnnxModel): OnnxModel {
  return { proto: cloneValue(model.proto) };
}

export function cloneValueInfo(value: ValueInfoProto): ValueInfoProto {
  return cloneValue(value);
}
