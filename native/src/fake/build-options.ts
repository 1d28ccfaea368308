import type { BuildCallbacks, BuildEngineOptions } from "../binding-types.js";
import { isBytes, nativeError, SEVERITY_RANK, typeError } from "./values.js";

/*
 * The option checks of native/src/build_options.cc (readBuildOptions) and build_worker.cc
 * (callbacks), in the same order and with the same texts. native/test/option-table runs one table
 * of cases against this and against the real addon, so a difference shows as a failing case.
 */

const INT64_MAX = 9223372036854775807n;

/** isSet() of the C++: an absent key, undefined and null all mean "not given". */
function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function readString(value: unknown, what: string): string {
  if (typeof value !== "string") throw typeError(`${what} must be a string`);
  return value;
}

function readBool(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw typeError(`${what} must be a boolean`);
  return value;
}

/** readInteger(): a finite integral Number or a lossless BigInt within [min, max]. */
function readInteger(value: unknown, what: string, min: bigint, max: bigint): bigint {
  const range = `${what} must be an integer from ${min} to ${max}`;
  if (typeof value === "number") {
    // The C++ compares as doubles: INT64_MAX rounds up to 2^63.
    if (!Number.isFinite(value) || Math.floor(value) !== value || value < Number(min) || value > Number(max)) throw typeError(range);
    return BigInt(value);
  }
  if (typeof value === "bigint") {
    if (value < min || value > max) throw typeError(range);
    return value;
  }
  throw typeError(`${what} must be an integer`);
}

function readBytes(value: unknown, what: string): void {
  if (!isBytes(value)) throw typeError(`${what} must be a Buffer or Uint8Array`);
}

function readShape(value: unknown, what: string): bigint[] {
  if (!Array.isArray(value)) throw typeError(`${what} must be an array of dimensions`);
  if (value.length > 8) throw typeError(`${what} has ${value.length} dimensions; TensorRT allows at most 8`);
  return value.map((d: unknown, i) => readInteger(d, `${what}[${i}]`, 0n, INT64_MAX));
}

function readRange(value: unknown, what: string): void {
  if (typeof value !== "object" || value === null) throw typeError(`${what} must be an object {min, opt, max}`);
  const range = value as Record<string, unknown>;
  const min = readInteger(range.min, `${what}.min`, 1n, INT64_MAX);
  const opt = readInteger(range.opt, `${what}.opt`, 1n, INT64_MAX);
  const max = readInteger(range.max, `${what}.max`, 1n, INT64_MAX);
  if (!(min <= opt && opt <= max)) throw typeError(`${what} must satisfy min <= opt <= max`);
}

function readProfile(value: unknown): void {
  if (typeof value !== "object" || value === null) throw typeError("options.profile must be an object {batch, sequence}");
  const profile = value as Record<string, unknown>;
  readRange(profile.batch, "options.profile.batch");
  readRange(profile.sequence, "options.profile.sequence");
}

function readProfiles(value: unknown): void {
  if (!Array.isArray(value)) throw typeError("options.profiles must be an array of {input, min, opt, max}");
  const seen = new Set<string>();
  value.forEach((item: unknown, i) => {
    const what = `options.profiles[${i}]`;
    if (typeof item !== "object" || item === null) throw typeError(`${what} must be an object {input, min, opt, max}`);
    const spec = item as Record<string, unknown>;
    const input = readString(spec.input, `${what}.input`);
    const min = readShape(spec.min, `${what}.min`);
    const opt = readShape(spec.opt, `${what}.opt`);
    const max = readShape(spec.max, `${what}.max`);
    if (min.length !== opt.length || opt.length !== max.length)
      throw typeError(`${what} (${input}): min, opt and max must have the same rank`);
    min.forEach((_, d) => {
      if (!(min[d]! <= opt[d]! && opt[d]! <= max[d]!)) throw typeError(`${what} (${input}): dimension ${d} must satisfy min <= opt <= max`);
    });
    if (seen.has(input)) throw typeError(`${what}: input ${input} appears twice; one profile covers every input once`);
    seen.add(input);
  });
}

export function checkBuildOptions(options: BuildEngineOptions, major: number, version: string): void {
  // N-API's IsObject() is true for functions and arrays too.
  if ((typeof options !== "object" && typeof options !== "function") || options === null)
    throw typeError("buildEngine: options must be an object");
  const o = options as unknown as Record<string, unknown>;
  if (readString(o.onnxPath, "options.onnxPath") === "") throw typeError("options.onnxPath must not be empty");
  const precision = readString(o.precision, "options.precision");
  if (!["fp32", "fp16", "int8"].includes(precision))
    throw typeError(`options.precision must be "fp32", "fp16" or "int8", not "${precision}"`);
  let typing = "strong";
  if (isSet(o.typing)) {
    typing = readString(o.typing, "options.typing");
    if (typing !== "strong" && typing !== "weak") throw typeError(`options.typing must be "strong" or "weak", not "${typing}"`);
  }
  const hasCache = isSet(o.calibrationCache);
  if (hasCache) readBytes(o.calibrationCache, "options.calibrationCache");
  if (major >= 11) {
    if (typing === "weak") {
      throw nativeError(
        "TRT_MODE_REMOVED",
        `TensorRT ${version} removed weak typing (the kFP16/kINT8 builder flags): every network is strongly typed, so the precision must be in the ONNX itself (an fp16 ONNX, or Q/DQ nodes for int8); build with typing "strong" from such an ONNX`,
      );
    }
    if (hasCache) {
      throw nativeError(
        "TRT_MODE_REMOVED",
        `TensorRT ${version} removed implicit INT8 calibration (IInt8Calibrator and calibration caches): the precision must be in the ONNX itself; quantize it with Q/DQ nodes and build with typing "strong"`,
      );
    }
  } else if (hasCache && !(typing === "weak" && precision === "int8")) {
    throw typeError('options.calibrationCache is used only with precision "int8" and typing "weak"');
  }
  if (isSet(o.profiles)) readProfiles(o.profiles);
  if (isSet(o.profile)) {
    if (isSet(o.profiles)) throw typeError("options.profile and options.profiles cannot both be given; pass one");
    readProfile(o.profile);
  }
  if (isSet(o.workspaceBytes)) readInteger(o.workspaceBytes, "options.workspaceBytes", 1n, INT64_MAX);
  if (isSet(o.builderOptimizationLevel)) readInteger(o.builderOptimizationLevel, "options.builderOptimizationLevel", 0n, 5n);
  if (isSet(o.timingCache)) readBytes(o.timingCache, "options.timingCache");
  if (isSet(o.hardwareCompatibility)) {
    const level = readString(o.hardwareCompatibility, "options.hardwareCompatibility");
    if (!["none", "ampere_plus", "same_compute_capability"].includes(level)) {
      throw typeError(`options.hardwareCompatibility must be "none", "ampere_plus" or "same_compute_capability", not "${level}"`);
    }
  }
  let versionCompatible = false;
  if (isSet(o.versionCompatible)) versionCompatible = readBool(o.versionCompatible, "options.versionCompatible");
  if (isSet(o.excludeLeanRuntime) && readBool(o.excludeLeanRuntime, "options.excludeLeanRuntime") && !versionCompatible) {
    throw typeError("options.excludeLeanRuntime applies only with versionCompatible: true");
  }
  if (isSet(o.deviceId)) readInteger(o.deviceId, "options.deviceId", 0n, 1023n);
  if (isSet(o.logSeverity)) {
    const name = readString(o.logSeverity, "options.logSeverity");
    if (!(name in SEVERITY_RANK))
      throw typeError(`options.logSeverity must be "internal_error", "error", "warning", "info" or "verbose", not "${name}"`);
  }
}

export function checkCallbacks(callbacks: BuildCallbacks | undefined): void {
  if (callbacks === undefined || callbacks === null) return;
  if (typeof callbacks !== "object" && typeof callbacks !== "function")
    throw typeError("buildEngine: callbacks must be an object {onLog?, onProgress?}");
  for (const key of ["onLog", "onProgress"] as const) {
    const fn = callbacks[key];
    if (fn !== undefined && fn !== null && typeof fn !== "function") throw typeError(`callbacks.${key} must be a function`);
  }
}
