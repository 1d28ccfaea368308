import type { Int64 } from "./proto-types.js";

/** The exact value of a protobuf int64 as protobufjs delivers it (Long or number). */
export function int64ToBigInt(value: Int64): bigint {
  if (typeof value === "number") return BigInt(value);
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return value.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** A protobuf int64 as a number; for dims, axes and attribute values, which fit 2^53 in practice. */
export function int64ToNumber(value: Int64): number {
  return typeof value === "number" ? value : Number(int64ToBigInt(value));
}
