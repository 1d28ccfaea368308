import type { NativeError, NativeErrorCode, ParseErrorDetail, TrtLogSeverity, TrtMessage } from "../binding-types.js";

/** The real addon's error objects: Error with a string code, and TypeError for bad arguments. */
export function nativeError(code: NativeErrorCode, message: string, details?: ParseErrorDetail[] | TrtMessage[]): NativeError {
  const error = new Error(message) as NativeError;
  error.code = code;
  if (details !== undefined && details.length > 0) error.details = details;
  return error;
}

export function typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_ARG_VALUE" });
}

export function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

export function isBytes(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

export const SEVERITY_RANK: Record<TrtLogSeverity, number> = { internal_error: 0, error: 1, warning: 2, info: 3, verbose: 4 };

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
