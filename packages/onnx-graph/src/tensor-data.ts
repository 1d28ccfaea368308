import { endianness } from "node:os";
import { ForgeError } from "@trtforge/core";
import { int64ToBigInt, int64ToNumber } from "./int64.js";
import { DataType, type TensorProto } from "./proto-types.js";
import { createTensor } from "./schema.js";

// raw_data is little-endian by the ONNX spec; typed arrays use the host's order.
if (endianness() !== "LE") throw new Error("@trtforge/onnx-graph needs a little-endian host");

/** Bytes per element of the fixed-width types whose data can live in raw_data. */
const ELEMENT_BYTES: ReadonlyMap<number, number> = new Map([
  [DataType.FLOAT, 4],
  [DataType.UINT8, 1],
  [DataType.INT8, 1],
  [DataType.UINT16, 2],
  [DataType.INT16, 2],
  [DataType.INT32, 4],
  [DataType.INT64, 8],
  [DataType.BOOL, 1],
  [DataType.FLOAT16, 2],
  [DataType.DOUBLE, 8],
  [DataType.UINT32, 4],
  [DataType.UINT64, 8],
  [DataType.BFLOAT16, 2],
]);

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, d) => product * d, 1);
}

export function tensorDims(tensor: TensorProto): number[] {
  return tensor.dims.map(int64ToNumber);
}

export function hasRawData(tensor: TensorProto): boolean {
  return Object.prototype.hasOwnProperty.call(tensor, "raw_data") && tensor.raw_data !== undefined && tensor.raw_data !== null;
}

/** Bytes the tensor's values take in the file, whichever field holds them (for size limits). */
export function tensorPayloadBytes(tensor: TensorProto): number {
  if (hasRawData(tensor)) return tensor.raw_data!.length;
  return (
    tensor.float_data.length * 4 +
    tensor.int32_data.length * 4 +
    tensor.int64_data.length * 8 +
    tensor.double_data.length * 8 +
    tensor.uint64_data.length * 8 +
    tensor.string_data.reduce((sum, s) => sum + s.length, 0)
  );
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The tensor's values as little-endian raw bytes, from raw_data or from the typed field the
 * producer used. Undefined for types raw_data cannot hold here (strings, sub-byte and float8 types).
 */
export function tensorRawBytes(tensor: TensorProto): Uint8Array | undefined {
  if (hasRawData(tensor)) return tensor.raw_data!;
  const type = tensor.data_type;
  switch (type) {
    case DataType.FLOAT:
      return bytesOf(Float32Array.from(tensor.float_data));
    case DataType.DOUBLE:
      return bytesOf(Float64Array.from(tensor.double_data));
    case DataType.INT64:
      return bytesOf(BigInt64Array.from(tensor.int64_data, int64ToBigInt));
    case DataType.UINT64:
      return bytesOf(BigUint64Array.from(tensor.uint64_data, (v) => BigInt.asUintN(64, int64ToBigInt(v))));
    case DataType.UINT32:
      return bytesOf(Uint32Array.from(tensor.uint64_data, int64ToNumber));
    case DataType.INT32:
      return bytesOf(Int32Array.from(tensor.int32_data));
    case DataType.INT16:
      return bytesOf(Int16Array.from(tensor.int32_data));
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return bytesOf(Uint16Array.from(tensor.int32_data));
    case DataType.INT8:
      return bytesOf(Int8Array.from(tensor.int32_data));
    case DataType.UINT8:
    case DataType.BOOL:
      return bytesOf(Uint8Array.from(tensor.int32_data));
    default:
      return undefined;
  }
}

/** Moves the values into raw_data (clearing the typed fields) so they can be written elsewhere. */
export function withRawData(tensor: TensorProto, bytes: Uint8Array): void {
  tensor.raw_data = bytes;
  tensor.float_data = [];
  tensor.int32_data = [];
  tensor.int64_data = [];
  tensor.double_data = [];
  tensor.uint64_data = [];
}

/** A FLOAT tensor's values; a copy, so that unaligned raw_data in a file buffer is no problem. */
/**
 * The tensor's float32 values for reading right away, without the copy readFloat32 makes when the
 * bytes are 4-aligned: the view shares the model's buffer, so keep it no longer than the model.
 */
export function float32View(tensor: TensorProto): Float32Array {
  const raw = hasRawData(tensor) ? tensor.raw_data! : undefined;
  if (
    tensor.data_type === DataType.FLOAT &&
    raw !== undefined &&
    raw.byteOffset % 4 === 0 &&
    raw.length === elementCount(tensorDims(tensor)) * 4
  ) {
    return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  }
  return readFloat32(tensor);
}

export function readFloat32(tensor: TensorProto): Float32Array {
  if (tensor.data_type !== DataType.FLOAT) {
    throw new ForgeError("INVALID_ARGUMENT", `tensor ${tensor.name} is not float32 (data_type ${tensor.data_type})`);
  }
  const count = elementCount(tensorDims(tensor));
  const raw = hasRawData(tensor) ? tensor.raw_data! : undefined;
  const stored = raw === undefined ? tensor.float_data.length : raw.length / 4;
  if (stored !== count) {
    throw new ForgeError("EXPORT_PROTOCOL", `tensor ${tensor.name} holds ${stored} values for dims [${tensorDims(tensor).join(", ")}]`, {
      fix: "re-export the model; the ONNX file is damaged",
    });
  }
  // new Uint8Array(view) copies: a Buffer's .buffer may be the whole file read.
  return raw === undefined ? Float32Array.from(tensor.float_data) : new Float32Array(new Uint8Array(raw).buffer);
}

/** A new tensor whose values are `data` as raw little-endian bytes. */
export function tensorFromTypedArray(name: string, dataType: number, dims: readonly number[], data: ArrayBufferView): TensorProto {
  const expected = elementCount(dims) * (ELEMENT_BYTES.get(dataType) ?? Number.NaN);
  if (data.byteLength !== expected) {
    throw new ForgeError("INTERNAL", `tensor ${name}: ${data.byteLength} bytes for dims [${dims.join(", ")}] of type ${dataType}`);
  }
  // Copy into a Buffer of its own: the tensor must not alias a scratch array that changes later.
  return createTensor({ name, data_type: dataType, dims: [...dims], raw_data: Buffer.from(bytesOf(data)) });
}
