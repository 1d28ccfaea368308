/**
 * A stand-in for trtforge_trt<major>.node on hosts without TensorRT, for tests. It implements the
 * same AddonBinding and behaves like the real addon where callers rely on it:
 * - options are checked the same way (TypeError; TRT_MODE_REMOVED for typing "weak" or a
 *   calibrationCache on TensorRT 11), synchronously, before any work;
 * - a build reports log lines and progress phases through the callbacks (all delivered before the
 *   promise settles), honours cancel() at every step (the open phases finish, then CANCELLED),
 *   can be told to fail parsing (TRT_PARSE_FAILED with the given details) or building;
 * - it writes a plan whose bytes 0..3 are "ftrt" and bytes 24..27 the TensorRT version, as a real
 *   plan's header has them, followed by a payload only this fake reads back (so it is never a
 *   loadable real engine, and loadEngine refuses real plans);
 * - the inspector JSON has TensorRT's shape (10.x "Bindings" + "Format/Datatype", 11.x
 *   "I/O Tensors" + split "Format"/"DataType") with per-layer precisions the test chooses.
 * Message texts follow the real addon's where the real addon writes them; TensorRT's own log
 * lines and phase names here are invented.
 */
import { existsSync } from "node:fs";
import type {
  AddonBinding,
  BuildCallbacks,
  BuildEngineOptions,
  BuildJob,
  BuildResult,
  CudaDevice,
  HostTensor,
  IoTensor,
  LoadEngineOptions,
  NativeEngine,
  NativeError,
  NativeErrorCode,
  NativeLogEntry,
  ParseErrorDetail,
  TensorData,
  TrtDataType,
  TrtLogSeverity,
  TrtMessage,
} from "./binding-types.js";

export interface FakeLayer {
  name: string;
  /** TensorRT's LayerType string in the inspector, e.g. "CaskGemm", "Myelin", "Reformat". Default "CaskGemm". */
  type?: string;
  /** The data type of the layer's inputs and outputs in the inspector JSON: what a precision check reads. */
  precision: TrtDataType;
}

export interface FakePhase {
  name: string;
  nbSteps: number;
  /** children[i] runs inside step i (phaseStart with this phase as parent), as TensorRT nests phases. */
  children?: FakePhase[];
}

export interface FakeAddonOptions {
  /** Default 10. */
  trtMajor?: 10 | 11;
  /** Default "10.16.0.72" for 10, "11.1.0.106" for 11: the loaded and the compiled version. */
  trtVersion?: string;
  /** Default one fake GPU; [] makes every build and load fail TRT_UNAVAILABLE like a host without a GPU. */
  devices?: CudaDevice[];
  cudaRuntimeVersion?: string;
  driverVersion?: string;
  /** Progress phases of every build. */
  phases?: FakePhase[];
  /** Log lines every build emits before its phases (filtered by options.logSeverity like the real logger). */
  logs?: NativeLogEntry[];
  /** Layers (and so per-layer precisions) of the engine. Default: a few layers at the requested precision. */
  layers?: FakeLayer[] | ((options: BuildEngineOptions) => FakeLayer[]);
  /**
   * The network's I/O tensors. Default: an int64 input per profile entry, and one fp32 output
   * "logits" [-1, 2]. When given, profiles are checked against the inputs as the real addon does.
   */
  ioTensors?: IoTensor[] | ((options: BuildEngineOptions) => IoTensor[]);
  /** Makes every build fail parsing with these IParserError details. */
  parseErrors?: ParseErrorDetail[];
  /** Makes every build fail after its phases with these error-level log messages. */
  buildErrors?: string[];
  /** Which inspector JSON schema to write; default the major's. */
  inspectorSchema?: 10 | 11;
  /** Delay before each progress step; default 0 (a macrotask per step, so cancel() can land between steps). */
  stepDelayMs?: number;
  /** Computes run() outputs; default zeros of the output shapes (dynamic dimensions taken from the first input). */
  run?: (inputs: Record<string, HostTensor>, ioTensors: IoTensor[]) => Record<string, HostTensor>;
}

export interface FakeAddon extends AddonBinding {
  /** Every options object buildEngine accepted, in order. */
  readonly builds: BuildEngineOptions[];
}

export const FAKE_PLAN_MARKER = "TRTFORGE-FAKE-PLAN\n";
const FAKE_TIMING_CACHE_PREFIX = "TRTFORGE-FAKE-TIMING-CACHE entries=";
const PLAN_VERSION_OFFSET = 24;
const PLAN_PAYLOAD_OFFSET = 32;

const DEFAULT_VERSIONS: Record<10 | 11, string> = { 10: "10.16.0.72", 11: "11.1.0.106" };
const SEVERITY_RANK: Record<TrtLogSeverity, number> = { internal_error: 0, error: 1, warning: 2, info: 3, verbose: 4 };

const DEFAULT_DEVICE: CudaDevice = {
  index: 0,
  name: "trtforge fake GPU",
  computeCapability: "8.6",
  uuid: "GPU-00000000-0000-4000-8000-000000000f4e",
  totalMemoryBytes: 24 * 1024 ** 3,
  multiProcessorCount: 82,
};

const DEFAULT_PHASES: FakePhase[] = [
  {
    name: "Building engine",
    nbSteps: 3,
    children: [{ name: "Optimizing network", nbSteps: 2 }, { name: "Timing layers", nbSteps: 4 }, { name: "Writing plan", nbSteps: 1 }],
  },
];

function nativeError(code: NativeErrorCode, message: string, details?: ParseErrorDetail[] | TrtMessage[]): NativeError {
  const error = new Error(message) as NativeError;
  error.code = code;
  if (details !== undefined && details.length > 0) error.details = details;
  return error;
}

function typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_ARG_VALUE" });
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isBytes(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** The same checks, in the same order, as native/src/build_options.cc. */
function checkBuildOptions(options: BuildEngineOptions, major: number, version: string): void {
  if (typeof options !== "object" || options === null) throw typeError("buildEngine: options must be an object");
  if (typeof options.onnxPath !== "string") throw typeError("options.onnxPath must be a string");
  if (options.onnxPath === "") throw typeError("options.onnxPath must not be empty");
  if (typeof options.precision !== "string") throw typeError("options.precision must be a string");
  if (!["fp32", "fp16", "int8"].includes(options.precision)) {
    throw typeError(`options.precision must be "fp32", "fp16" or "int8", not "${options.precision}"`);
  }
  const typing = options.typing ?? "strong";
  if (typing !== "strong" && typing !== "weak") throw typeError(`options.typing must be "strong" or "weak", not "${String(typing)}"`);
  const hasCache = options.calibrationCache !== undefined && options.calibrationCache !== null;
  if (hasCache && !isBytes(options.calibrationCache)) throw typeError("options.calibrationCache must be a Buffer or Uint8Array");
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
  } else if (hasCache && !(typing === "weak" && options.precision === "int8")) {
    throw typeError('options.calibrationCache is used only with precision "int8" and typing "weak"');
  }
  if (options.profiles !== undefined && options.profiles !== null) {
    if (!Array.isArray(options.profiles)) throw typeError("options.profiles must be an array of {input, min, opt, max}");
    const seen = new Set<string>();
    options.profiles.forEach((profile, i) => {
      const what = `options.profiles[${i}]`;
      if (typeof profile !== "object" || profile === null) throw typeError(`${what} must be an object {input, min, opt, max}`);
      if (typeof profile.input !== "string") throw typeError(`${what}.input must be a string`);
      for (const key of ["min", "opt", "max"] as const) {
        const shape = profile[key];
        if (!Array.isArray(shape)) throw typeError(`${what}.${key} must be an array of dimensions`);
        if (shape.length > 8) throw typeError(`${what}.${key} has ${shape.length} dimensions; TensorRT allows at most 8`);
        shape.forEach((d, j) => {
          if (!isInteger(d, 0, Number.MAX_SAFE_INTEGER)) throw typeError(`${what}.${key}[${j}] must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
        });
      }
      if (profile.min.length !== profile.opt.length || profile.opt.length !== profile.max.length) {
        throw typeError(`${what} (${profile.input}): min, opt and max must have the same rank`);
      }
      profile.min.forEach((_, d) => {
        if (!(profile.min[d]! <= profile.opt[d]! && profile.opt[d]! <= profile.max[d]!)) {
          throw typeError(`${what} (${profile.input}): dimension ${d} must satisfy min <= opt <= max`);
        }
      });
      if (seen.has(profile.input)) throw typeError(`${what}: input ${profile.input} appears twice; one profile covers every input once`);
      seen.add(profile.input);
    });
  }
  if (options.workspaceBytes !== undefined && !isInteger(options.workspaceBytes, 1, Number.MAX_SAFE_INTEGER)) {
    throw typeError("options.workspaceBytes must be an integer from 1");
  }
  if (options.builderOptimizationLevel !== undefined && !isInteger(options.builderOptimizationLevel, 0, 5)) {
    throw typeError("options.builderOptimizationLevel must be an integer from 0 to 5");
  }
  if (options.timingCache !== undefined && options.timingCache !== null && !isBytes(options.timingCache)) {
    throw typeError("options.timingCache must be a Buffer or Uint8Array");
  }
  if (options.hardwareCompatibility !== undefined && !["none", "ampere_plus", "same_compute_capability"].includes(options.hardwareCompatibility)) {
    throw typeError(`options.hardwareCompatibility must be "none", "ampere_plus" or "same_compute_capability", not "${String(options.hardwareCompatibility)}"`);
  }
  if (options.versionCompatible !== undefined && typeof options.versionCompatible !== "boolean") throw typeError("options.versionCompatible must be a boolean");
  if (options.excludeLeanRuntime !== undefined) {
    if (typeof options.excludeLeanRuntime !== "boolean") throw typeError("options.excludeLeanRuntime must be a boolean");
    if (options.excludeLeanRuntime && options.versionCompatible !== true) throw typeError("options.excludeLeanRuntime applies only with versionCompatible: true");
  }
  if (options.deviceId !== undefined && !isInteger(options.deviceId, 0, 1023)) throw typeError("options.deviceId must be an integer from 0 to 1023");
  if (options.logSeverity !== undefined && !(options.logSeverity in SEVERITY_RANK)) {
    throw typeError(`options.logSeverity must be "internal_error", "error", "warning", "info" or "verbose", not "${String(options.logSeverity)}"`);
  }
}

function checkCallbacks(callbacks: BuildCallbacks | undefined): void {
  if (callbacks === undefined || callbacks === null) return;
  if (typeof callbacks !== "object") throw typeError("buildEngine: callbacks must be an object {onLog?, onProgress?}");
  for (const key of ["onLog", "onProgress"] as const) {
    const fn = callbacks[key];
    if (fn !== undefined && fn !== null && typeof fn !== "function") throw typeError(`callbacks.${key} must be a function`);
  }
}

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

function defaultIoTensors(options: BuildEngineOptions): IoTensor[] {
  const inputs: IoTensor[] = (options.profiles ?? []).map((p) => ({
    name: p.input,
    mode: "input",
    dtype: "int64",
    shape: p.min.map((d, i) => (d === p.max[i] ? d : -1)),
    location: "device",
    profile: { min: [...p.min], opt: [...p.opt], max: [...p.max] },
  }));
  return [...inputs, { name: "logits", mode: "output", dtype: "fp32", shape: [-1, 2], location: "device" }];
}

function defaultLayers(options: BuildEngineOptions): FakeLayer[] {
  const p: TrtDataType = options.precision;
  return [
    { name: "Reformatting CopyNode for Input Tensor 0", type: "Reformat", precision: "fp32" },
    { name: "/encoder/layer.0/attention/self/query/MatMul", type: "CaskGemm", precision: p },
    { name: "/encoder/layer.0/attention/self/Softmax", type: "CaskSoftmax", precision: p === "int8" ? "fp16" : p },
    { name: "/encoder/layer.0/output/dense/MatMul", type: "CaskGemm", precision: p },
    { name: "/classifier/Gemm", type: "CaskGemm", precision: p === "int8" ? "fp16" : p },
  ];
}

/** A Failure from the profile checks of native/src/builder_config.cc, or undefined. */
function checkProfilesAgainstInputs(options: BuildEngineOptions, io: IoTensor[]): NativeError | undefined {
  const specs = new Map((options.profiles ?? []).map((p) => [p.input, p]));
  const inputs = io.filter((t) => t.mode === "input");
  for (const input of inputs) {
    const spec = specs.get(input.name);
    const dynamic = input.shape.some((d) => d < 0);
    if (spec === undefined) {
      if (dynamic) {
        return nativeError(
          "TRT_BUILD_FAILED",
          `input ${input.name} has dynamic dimensions ${shapeString(input.shape)} but options.profiles has no entry for it; give min/opt/max shapes for every dynamic input`,
        );
      }
      continue;
    }
    if (spec.min.length !== input.shape.length) {
      return nativeError("TRT_BUILD_FAILED", `the profile for ${input.name} has rank ${spec.min.length} but the input is ${shapeString(input.shape)}`);
    }
    for (let d = 0; d < input.shape.length; d += 1) {
      const fixed = input.shape[d]!;
      if (fixed >= 0 && (spec.min[d] !== fixed || spec.opt[d] !== fixed || spec.max[d] !== fixed)) {
        return nativeError("TRT_BUILD_FAILED", `the profile for ${input.name} sets dimension ${d} but the ONNX fixes it to ${fixed} (input ${shapeString(input.shape)})`);
      }
    }
  }
  const names = new Set(inputs.map((t) => t.name));
  for (const spec of options.profiles ?? []) {
    if (!names.has(spec.input)) {
      return nativeError(
        "TRT_BUILD_FAILED",
        `options.profiles names input ${spec.input}, which the network does not have; its inputs are: ${inputs.map((t) => `${t.name} ${shapeString(t.shape)}`).join(", ")}`,
      );
    }
  }
  return undefined;
}

function describeParseError(e: ParseErrorDetail): string {
  let where = "";
  if (e.node >= 0) {
    where = `node ${e.node}`;
    if (e.nodeName !== "" || e.operator !== "") where += ` (${e.nodeName}${e.operator === "" ? "" : `, ${e.operator}`})`;
    where += ": ";
  }
  return `${where}[${e.errorCode}] ${e.message}`;
}

/** TensorRT 10.x "Format/Datatype" and 11.x "DataType" strings by dtype (11.x names beyond "Float" are assumptions). */
const FORMAT_TAG: Record<TrtDataType, string> = {
  fp32: "FP32",
  fp16: "FP16",
  int8: "Int8",
  int32: "Int32",
  bool: "Bool",
  uint8: "UInt8",
  fp8: "FP8",
  bf16: "BF16",
  int64: "Int64",
  int4: "Int4",
  fp4: "FP4",
  e8m0: "E8M0",
};
const DATA_TYPE_11: Record<TrtDataType, string> = {
  fp32: "Float",
  fp16: "Half",
  int8: "Int8",
  int32: "Int32",
  bool: "Bool",
  uint8: "UInt8",
  fp8: "FP8",
  bf16: "BFloat16",
  int64: "Int64",
  int4: "Int4",
  fp4: "FP4",
  e8m0: "E8M0",
};

/** The inspector's getEngineInformation(kJSON) in TensorRT's shape for the given schema. */
export function fakeInspectorJson(layers: FakeLayer[], io: IoTensor[], schema: 10 | 11): string {
  const firstInput = io.find((t) => t.mode === "input");
  const dims = firstInput?.shape ?? [-1];
  const tensor = (name: string, precision: TrtDataType): Record<string, unknown> =>
    schema === 10
      ? { Name: name, Location: "Device", Dimensions: dims, "Format/Datatype": `Row major linear ${FORMAT_TAG[precision]} format` }
      : { Name: name, Location: "Device", Dimensions: dims, Format: `Row major linear ${FORMAT_TAG[precision]} format (kLINEAR)`, DataType: DATA_TYPE_11[precision] };
  let previous = firstInput?.name ?? "input";
  const jsonLayers = layers.map((layer, i) => {
    const output = i === layers.length - 1 ? (io.find((t) => t.mode === "output")?.name ?? `${layer.name}_output`) : `${layer.name}_output`;
    const entry = {
      Name: layer.name,
      LayerType: layer.type ?? "CaskGemm",
      Inputs: [tensor(previous, layer.precision)],
      Outputs: [tensor(output, layer.precision)],
      ParameterType: layer.type ?? "CaskGemm",
      TacticName: `fake_${layer.precision}_kernel`,
      TacticValue: `0x${(i + 1).toString(16).padStart(16, "0")}`,
    };
    previous = output;
    return entry;
  });
  if (schema === 10) return JSON.stringify({ Layers: jsonLayers, Bindings: io.map((t) => t.name) });
  return JSON.stringify({
    Layers: jsonLayers,
    "I/O Tensors": io.map((t) => ({
      Name: t.name,
      IOMode: t.mode === "input" ? "Input" : "Output",
      DataType: DATA_TYPE_11[t.dtype],
      Dimensions: t.shape,
      Location: t.location === "host" ? "Host" : "Device",
      IsShapeInferenceIO: false,
      ...(t.profile
        ? { ProfileInfo: [{ MinShape: t.profile.min, OptShape: t.profile.opt, MaxShape: t.profile.max, Format: `Row major linear ${FORMAT_TAG[t.dtype]} format (kLINEAR)` }] }
        : {}),
    })),
  });
}

interface FakePlanPayload {
  trtVersion: string;
  precision: string;
  typing: string;
  ioTensors: IoTensor[];
  inspectorJson: string;
}

function versionBytes(version: string): number[] {
  const parts = version.split(".").map((p) => Number(p));
  return [0, 1, 2, 3].map((i) => (Number.isInteger(parts[i]) ? parts[i]! & 0xff : 0));
}

/** "ftrt", zeros, the version at 24..27, zeros to 32, then the marker and a JSON payload. */
export function makeFakePlan(payload: FakePlanPayload): Buffer {
  const header = Buffer.alloc(PLAN_PAYLOAD_OFFSET);
  header.write("ftrt", 0, "ascii");
  Buffer.from(versionBytes(payload.trtVersion)).copy(header, PLAN_VERSION_OFFSET);
  return Buffer.concat([header, Buffer.from(FAKE_PLAN_MARKER + JSON.stringify(payload), "utf8")]);
}

function readFakePlan(bytes: Uint8Array, loadedVersion: string): FakePlanPayload {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 4 || buffer.subarray(0, 4).toString("ascii") !== "ftrt") {
    throw nativeError(
      "ENGINE_LOAD_FAILED",
      'TensorRT could not deserialize the engine (the bytes do not start with the TensorRT plan magic "ftrt": not a serialized engine, or a trtforge marker engine)',
    );
  }
  if (buffer.length >= 28) {
    const planVersion = Array.from(buffer.subarray(PLAN_VERSION_OFFSET, PLAN_VERSION_OFFSET + 4)).join(".");
    if (planVersion !== versionBytes(loadedVersion).join(".")) {
      throw nativeError(
        "ENGINE_LOAD_FAILED",
        `TensorRT could not deserialize the engine (the plan was built by TensorRT ${planVersion}, this process loaded TensorRT ${loadedVersion}; plans load only in the TensorRT version that built them unless built version-compatible)`,
      );
    }
  }
  const marker = Buffer.from(FAKE_PLAN_MARKER, "utf8");
  if (buffer.length < PLAN_PAYLOAD_OFFSET + marker.length || !buffer.subarray(PLAN_PAYLOAD_OFFSET, PLAN_PAYLOAD_OFFSET + marker.length).equals(marker)) {
    throw nativeError("ENGINE_LOAD_FAILED", "TensorRT could not deserialize the engine (the fake addon loads only plans that it built)");
  }
  return JSON.parse(buffer.subarray(PLAN_PAYLOAD_OFFSET + marker.length).toString("utf8")) as FakePlanPayload;
}

const TYPED_ARRAY: Record<TrtDataType, { ctor: new (length: number) => TensorData; name: string } | undefined> = {
  fp32: { ctor: Float32Array, name: "Float32Array" },
  fp16: { ctor: Uint16Array, name: "Uint16Array (fp16 bits)" },
  bf16: { ctor: Uint16Array, name: "Uint16Array (bf16 bits)" },
  int8: { ctor: Int8Array, name: "Int8Array" },
  int32: { ctor: Int32Array, name: "Int32Array" },
  int64: { ctor: BigInt64Array, name: "BigInt64Array" },
  uint8: { ctor: Uint8Array, name: "Uint8Array" },
  bool: { ctor: Uint8Array, name: "Uint8Array (0/1)" },
  fp8: { ctor: Uint8Array, name: "Uint8Array (fp8 bits)" },
  e8m0: undefined,
  int4: undefined,
  fp4: undefined,
};

/** The same input checks as native/src/run_worker.cc (INPUT_MISMATCH). */
function checkInputs(inputs: Record<string, HostTensor>, io: IoTensor[]): void {
  if (typeof inputs !== "object" || inputs === null) throw typeError("Engine.run: inputs must be an object {name: {data, shape}}");
  const declared = io.filter((t) => t.mode === "input");
  for (const input of declared) {
    const value = inputs[input.name];
    const what = `input ${input.name}`;
    if (value === undefined) throw nativeError("INPUT_MISMATCH", `Engine.run: input ${input.name} is missing`);
    if (typeof value !== "object" || value === null) throw nativeError("INPUT_MISMATCH", `${what} must be {data: TypedArray, shape: number[]}`);
    const expected = TYPED_ARRAY[input.dtype];
    if (expected === undefined) throw nativeError("INPUT_MISMATCH", `${what} has data type ${input.dtype}, which run() cannot feed (packed sub-byte types)`);
    if (!ArrayBuffer.isView(value.data) || value.data instanceof DataView) throw nativeError("INPUT_MISMATCH", `${what}.data must be a ${expected.name}`);
    if (value.data.constructor !== expected.ctor) throw nativeError("INPUT_MISMATCH", `${what} is ${input.dtype} in the engine: pass its data as a ${expected.name}`);
    if (!Array.isArray(value.shape)) throw nativeError("INPUT_MISMATCH", `${what}.shape must be an array of dimensions`);
    value.shape.forEach((d, i) => {
      if (!isInteger(d, 0, Number.MAX_SAFE_INTEGER)) throw nativeError("INPUT_MISMATCH", `${what}.shape[${i}] must be an integer >= 0`);
    });
    if (value.shape.length !== input.shape.length) {
      throw nativeError("INPUT_MISMATCH", `${what} has shape ${shapeString(value.shape)} but the engine's input is ${shapeString(input.shape)}`);
    }
    input.shape.forEach((d, i) => {
      if (d >= 0 && d !== value.shape[i]) {
        throw nativeError("INPUT_MISMATCH", `${what} has shape ${shapeString(value.shape)} but the engine fixes it to ${shapeString(input.shape)}`);
      }
    });
    const volume = value.shape.reduce((a, b) => a * b, 1);
    if (value.data.length !== volume) {
      throw nativeError("INPUT_MISMATCH", `${what} has ${value.data.length} elements but shape ${shapeString(value.shape)} needs ${volume}`);
    }
  }
  const known = new Set(declared.map((t) => t.name));
  for (const name of Object.keys(inputs)) {
    if (!known.has(name)) throw nativeError("INPUT_MISMATCH", `Engine.run: the engine has no input named ${name}`);
  }
}

function zeroOutputs(inputs: Record<string, HostTensor>, io: IoTensor[]): Record<string, HostTensor> {
  const firstInput = io.find((t) => t.mode === "input");
  const reference = firstInput === undefined ? [] : (inputs[firstInput.name]?.shape ?? []);
  const out: Record<string, HostTensor> = {};
  for (const tensor of io.filter((t) => t.mode === "output")) {
    const shape = tensor.shape.map((d, i) => (d >= 0 ? d : (reference[i] ?? 1)));
    const kind = TYPED_ARRAY[tensor.dtype] ?? TYPED_ARRAY.uint8!;
    out[tensor.name] = { data: new kind.ctor(shape.reduce((a, b) => a * b, 1)), shape };
  }
  return out;
}

class FakeEngine implements NativeEngine {
  #disposed = false;

  constructor(
    private readonly payload: FakePlanPayload,
    readonly deviceId: number,
    private readonly runOutputs: FakeAddonOptions["run"],
  ) {}

  get disposed(): boolean {
    return this.#disposed;
  }

  #alive(method: string): void {
    if (this.#disposed) throw nativeError("ENGINE_DISPOSED", `Engine.${method}: the engine was disposed`);
  }

  ioTensors(): IoTensor[] {
    this.#alive("ioTensors");
    return structuredClone(this.payload.ioTensors);
  }

  run(inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    this.#alive("run");
    checkInputs(inputs, this.payload.ioTensors);
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(this.runOutputs ? this.runOutputs(inputs, structuredClone(this.payload.ioTensors)) : zeroOutputs(inputs, this.payload.ioTensors));
        } catch (err) {
          reject(err instanceof Error && "code" in err ? err : nativeError("TRT_RUN_FAILED", `enqueueV3 failed: ${(err as Error).message}`));
        }
      });
    });
  }

  inspectorJson(): string {
    this.#alive("inspectorJson");
    return this.payload.inspectorJson;
  }

  dispose(): void {
    this.#disposed = true;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

function readFakeTimingCache(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined || bytes === null) return 0;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.startsWith(FAKE_TIMING_CACHE_PREFIX)) return undefined;
  const n = Number(text.slice(FAKE_TIMING_CACHE_PREFIX.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function createFakeAddon(options: FakeAddonOptions = {}): FakeAddon {
  const major = options.trtMajor ?? 10;
  const version = options.trtVersion ?? DEFAULT_VERSIONS[major];
  const devices = options.devices ?? [DEFAULT_DEVICE];
  const schema = options.inspectorSchema ?? major;
  const builds: BuildEngineOptions[] = [];

  function deviceFailure(deviceId: number): NativeError | undefined {
    if (devices.length === 0) {
      return nativeError("TRT_UNAVAILABLE", `cannot use CUDA device ${deviceId}: cudaErrorNoDevice: no CUDA-capable device is detected`);
    }
    if (deviceId >= devices.length) {
      return nativeError("INVALID_DEVICE_ID", `CUDA device ${deviceId} does not exist; this host has ${devices.length} device(s)`);
    }
    return undefined;
  }

  function buildEngine(buildOptions: BuildEngineOptions, callbacks?: BuildCallbacks): BuildJob {
    checkBuildOptions(buildOptions, major, version);
    checkCallbacks(callbacks);
    builds.push(structuredClone(buildOptions));
    let cancelled = false;
    const minRank = SEVERITY_RANK[buildOptions.logSeverity ?? "info"];
    const errorLog: TrtMessage[] = [];
    const log = (severity: TrtLogSeverity, message: string): void => {
      if (SEVERITY_RANK[severity] <= SEVERITY_RANK.error) errorLog.push({ source: "log", severity, message });
      if (SEVERITY_RANK[severity] <= minRank) callbacks?.onLog?.({ severity, message });
    };
    const progress = callbacks?.onProgress ?? (() => {});

    async function runPhase(phase: FakePhase, parent: string | null): Promise<void> {
      progress({ type: "phaseStart", phase: phase.name, parent, nbSteps: phase.nbSteps });
      try {
        for (let step = 0; step < phase.nbSteps; step += 1) {
          const child = phase.children?.[step];
          if (child !== undefined) await runPhase(child, phase.name);
          await delay(options.stepDelayMs ?? 0);
          progress({ type: "stepComplete", phase: phase.name, step });
          // stepComplete returns false once cancelled: TensorRT stops, finishing the open phases.
          if (cancelled) throw nativeError("CANCELLED", "the build was cancelled");
        }
      } finally {
        progress({ type: "phaseFinish", phase: phase.name });
      }
    }

    async function build(): Promise<BuildResult> {
      await delay(0);
      if (cancelled) throw nativeError("CANCELLED", "the build was cancelled before it started");
      const deviceId = buildOptions.deviceId ?? 0;
      const failure = deviceFailure(deviceId);
      if (failure) throw failure;
      for (const entry of options.logs ?? []) log(entry.severity, entry.message);

      const path = buildOptions.onnxPath;
      const parseErrors: ParseErrorDetail[] = existsSync(path)
        ? (options.parseErrors ?? [])
        : [{ node: -1, nodeName: "", operator: "", message: `failed to open ${path}`, errorCode: "MODEL_DESERIALIZE_FAILED" }];
      if (parseErrors.length > 0) {
        const more = parseErrors.length > 1 ? ` (and ${parseErrors.length - 1} more)` : "";
        throw nativeError("TRT_PARSE_FAILED", `TensorRT's ONNX parser could not parse ${path}: ${describeParseError(parseErrors[0]!)}${more}`, structuredClone(parseErrors));
      }
      if (cancelled) throw nativeError("CANCELLED", "the build was cancelled after parsing");

      const io = typeof options.ioTensors === "function" ? options.ioTensors(buildOptions) : (options.ioTensors ?? defaultIoTensors(buildOptions));
      const profileFailure = options.ioTensors === undefined ? undefined : checkProfilesAgainstInputs(buildOptions, io);
      if (profileFailure) throw profileFailure;

      const previousEntries = readFakeTimingCache(buildOptions.timingCache ?? undefined);
      if (previousEntries === undefined) {
        log("warning", "trtforge: the timing cache given was refused (made by another TensorRT version or GPU?); building with an empty one");
      }

      for (const phase of options.phases ?? DEFAULT_PHASES) await runPhase(phase, null);

      if (options.buildErrors !== undefined && options.buildErrors.length > 0) {
        for (const message of options.buildErrors) log("error", message);
        throw nativeError("TRT_BUILD_FAILED", `TensorRT could not build the engine: ${options.buildErrors.at(-1)!}`, errorLog.slice(-32));
      }

      const layers = typeof options.layers === "function" ? options.layers(buildOptions) : (options.layers ?? defaultLayers(buildOptions));
      const inspectorJson = fakeInspectorJson(layers, io, schema);
      const device = devices[deviceId]!;
      return {
        engine: makeFakePlan({ trtVersion: version, precision: buildOptions.precision, typing: buildOptions.typing ?? "strong", ioTensors: io, inspectorJson }),
        timingCache: Buffer.from(`${FAKE_TIMING_CACHE_PREFIX}${(previousEntries ?? 0) + layers.length}`, "utf8"),
        inspectorJson,
        ioTensors: structuredClone(io),
        trtVersion: version,
        device: {
          index: deviceId,
          name: device.name,
          computeCapability: device.computeCapability,
          cudaRuntimeVersion: options.cudaRuntimeVersion ?? "13.0",
          driverVersion: options.driverVersion ?? "13.0",
        },
      };
    }

    return {
      promise: build(),
      cancel: () => {
        cancelled = true;
      },
    };
  }

  function loadEngine(bytes: Uint8Array, deviceId = 0, loadOptions?: LoadEngineOptions): NativeEngine {
    if (!ArrayBuffer.isView(bytes)) throw typeError("loadEngine: bytes must be a Buffer or Uint8Array");
    if (!isInteger(deviceId, 0, 1023)) throw typeError("loadEngine: deviceId must be an integer from 0 to 1023");
    if (loadOptions?.onLog !== undefined && typeof loadOptions.onLog !== "function") throw typeError("loadEngine: options.onLog must be a function");
    const failure = deviceFailure(deviceId);
    if (failure) throw failure;
    return new FakeEngine(readFakePlan(bytes, version), deviceId, options.run);
  }

  return {
    trtMajor: major,
    trtVersion: () => version,
    compiledTrtVersion: () => version,
    devices: () => structuredClone(devices),
    buildEngine,
    loadEngine,
    builds,
  };
}
