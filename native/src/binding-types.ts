/**
 * The JavaScript interface of trtforge_trt<major>.node (native/src/*.cc), and of the fake in
 * fake-addon.ts that stands in for it on hosts without TensorRT. Names, never TensorRT's enum
 * numbers, cross this boundary: severities, data types, I/O modes, error codes.
 */
import type { Profile } from "@trtforge/core";

/** TensorRT's ILogger severities, most severe first. */
export type TrtLogSeverity = "internal_error" | "error" | "warning" | "info" | "verbose";

/** TensorRT's DataType, by name. fp16/bf16/fp8 travel as raw bits in Uint16Array/Uint8Array. */
export type TrtDataType = "fp32" | "fp16" | "int8" | "int32" | "bool" | "uint8" | "fp8" | "bf16" | "int64" | "int4" | "fp4" | "e8m0";

export type BuildPrecision = "fp32" | "fp16" | "int8";

/**
 * "strong": the network is strongly typed, the ONNX carries the precision (fp16 ONNX, Q/DQ for
 * int8). "weak" (TensorRT 10 only): the kFP16/kINT8 builder flags and, for int8, an optional
 * calibration cache choose the precisions; TensorRT 11 removed it (TRT_MODE_REMOVED).
 */
export type NetworkTyping = "strong" | "weak";

export type HardwareCompatibility = "none" | "ampere_plus" | "same_compute_capability";

/** min/opt/max shapes of one input; one optimization profile holds every entry. */
export interface ShapeProfile {
  input: string;
  min: number[];
  opt: number[];
  max: number[];
}

export interface BuildEngineOptions {
  /** Parsed with parseFromFile, so external-data weights beside it are found. */
  onnxPath: string;
  /** What the engine is meant to be; with typing "strong" it must already be in the ONNX. */
  precision: BuildPrecision;
  /** Default "strong". */
  typing?: NetworkTyping;
  /** Required for every input with a dynamic dimension; ranks and fixed dimensions must match the ONNX. Not with `profile`. */
  profiles?: ShapeProfile[];
  /**
   * The encoder's profile as one object (the pipeline's Profile, unchanged): every dynamic input
   * must be [batch, sequence], and gets batch.min/opt/max × sequence.min/opt/max (fixed dimensions
   * stay as the ONNX fixes them). Not with `profiles`.
   */
  profile?: Profile;
  /** Workspace memory pool limit. */
  workspaceBytes?: number;
  /** 0..5; TensorRT's default is 3. */
  builderOptimizationLevel?: number;
  /**
   * TensorRT 10, precision "int8", typing "weak" only: a TensorRT calibration cache
   * ("TRT-<version>-EntropyCalibration2" text) served by a cache-only IInt8EntropyCalibrator2.
   */
  calibrationCache?: Uint8Array;
  /** A serialized timing cache from an earlier build (refused caches are replaced by an empty one, with a warning log). */
  timingCache?: Uint8Array;
  /** Default "none"; "same_compute_capability" needs TensorRT 10.9+. */
  hardwareCompatibility?: HardwareCompatibility;
  /** BuilderFlag::kVERSION_COMPATIBLE. */
  versionCompatible?: boolean;
  /** BuilderFlag::kEXCLUDE_LEAN_RUNTIME; only with versionCompatible. */
  excludeLeanRuntime?: boolean;
  /** CUDA device to build on (cudaSetDevice in the build thread). Default 0. */
  deviceId?: number;
  /** Least severe message passed to onLog (and to the ONNX parser's verbosity). Default "info". */
  logSeverity?: TrtLogSeverity;
}

export interface NativeLogEntry {
  severity: TrtLogSeverity;
  message: string;
}

/** IProgressMonitor's callbacks, in the order TensorRT made them. */
export type NativeProgressEvent =
  | { type: "phaseStart"; phase: string; parent: string | null; nbSteps: number }
  | { type: "stepComplete"; phase: string; step: number }
  | { type: "phaseFinish"; phase: string };

/**
 * Called on the JS thread, in order, while the build runs; every queued event is delivered before
 * the promise settles. Events are dropped (never blocking TensorRT) if more than 16,384 wait.
 */
export interface BuildCallbacks {
  onLog?: (entry: NativeLogEntry) => void;
  onProgress?: (event: NativeProgressEvent) => void;
}

export interface IoTensor {
  name: string;
  mode: "input" | "output";
  dtype: TrtDataType;
  /** -1 for dynamic dimensions. */
  shape: number[];
  location: "device" | "host";
  /** Dynamic inputs: the optimization profile's shapes. */
  profile?: { min: number[]; opt: number[]; max: number[] };
}

export interface BuildDevice {
  index: number;
  name: string;
  /** "8.6" */
  computeCapability: string;
  /** cudaRuntimeGetVersion as "13.0". */
  cudaRuntimeVersion: string;
  /** cudaDriverGetVersion as "13.0"; "" without a driver. */
  driverVersion: string;
}

export interface BuildResult {
  /** The serialized plan: "ftrt" at bytes 0..3, the TensorRT version at bytes 24..27. */
  engine: Buffer;
  /** The timing cache after the build, to pass to the next build on the same GPU and TensorRT. */
  timingCache: Buffer;
  /**
   * IEngineInspector getEngineInformation(kJSON) over every layer of a deserialized copy of the
   * engine, built with ProfilingVerbosity::kDETAILED. 10.x: {"Layers": [...], "Bindings": [names]}
   * with "Format/Datatype" per layer input/output; 11.x: "I/O Tensors" objects and split format
   * and data type fields. "" (with a warning log) if the inspector gave nothing.
   */
  inspectorJson: string;
  ioTensors: IoTensor[];
  /** Version of the TensorRT library that built the engine, e.g. "10.16.0.72". */
  trtVersion: string;
  device: BuildDevice;
}

export interface BuildJob {
  promise: Promise<BuildResult>;
  /** Makes the progress monitor's stepComplete return false; the promise then rejects CANCELLED. Idempotent. */
  cancel(): void;
}

/** Tensor data by engine dtype: fp32 Float32Array, fp16/bf16 Uint16Array, int8 Int8Array, int32 Int32Array, int64 BigInt64Array, uint8/bool/fp8 Uint8Array. */
export type TensorData = Float32Array | Uint16Array | Int8Array | Int32Array | BigInt64Array | Uint8Array;

export interface HostTensor {
  data: TensorData;
  shape: number[];
}

export interface LoadEngineOptions {
  /** TensorRT's messages while the engine lives (deserialization, inference). */
  onLog?: (entry: NativeLogEntry) => void;
  /** Default "warning". */
  logSeverity?: TrtLogSeverity;
  /** IRuntime::setEngineHostCodeAllowed: needed for version-compatible plans that embed a lean runtime. */
  allowHostCode?: boolean;
}

export interface NativeEngine {
  ioTensors(): IoTensor[];
  /**
   * Runs one inference on the engine's own CUDA stream (inferences of one engine run one at a
   * time). Throws synchronously (INPUT_MISMATCH) for missing, unknown or mistyped inputs.
   */
  run(inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  inspectorJson(): string;
  /** Frees the GPU memory now, or after the queued inferences settle. Idempotent. */
  dispose(): void;
  readonly disposed: boolean;
  readonly deviceId: number;
}

export interface CudaDevice {
  /** CUDA's ordinal, counted among the devices CUDA_VISIBLE_DEVICES leaves visible. */
  index: number;
  name: string;
  computeCapability: string;
  /** "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" as nvidia-smi prints it; stable across CUDA_VISIBLE_DEVICES. */
  uuid: string;
  totalMemoryBytes: number;
  multiProcessorCount: number;
}

/** Everything trtforge_trt<major>.node exports. */
export interface AddonBinding {
  /** NV_TENSORRT_MAJOR of the headers the binary was compiled against. */
  readonly trtMajor: number;
  /** TensorRT version of the library actually loaded, e.g. "10.13.3.9". */
  trtVersion(): string;
  /** TensorRT version of the headers the addon was compiled against. */
  compiledTrtVersion(): string;
  /** CUDA devices; [] without a GPU or driver. */
  devices(): CudaDevice[];
  /**
   * Starts a build off the JS thread. Throws synchronously: TypeError for invalid options,
   * TRT_MODE_REMOVED on TensorRT 11 for typing "weak" or a calibrationCache. The promise rejects
   * with TRT_PARSE_FAILED (details: ParseErrorDetail[]), TRT_BUILD_FAILED, CANCELLED,
   * TRT_UNAVAILABLE, INVALID_DEVICE_ID (details: TrtMessage[] where TensorRT said something).
   */
  buildEngine(options: BuildEngineOptions, callbacks?: BuildCallbacks): BuildJob;
  /** Deserializes a plan (on the calling thread). Throws ENGINE_LOAD_FAILED, TRT_UNAVAILABLE, INVALID_DEVICE_ID. */
  loadEngine(bytes: Uint8Array, deviceId?: number, options?: LoadEngineOptions): NativeEngine;
}

/** Error codes the addon sets on `error.code`. Every one is also a @trtforge/core ErrorCode (docs/errors.md). */
export type NativeErrorCode =
  | "TRT_UNAVAILABLE"
  | "TRT_PARSE_FAILED"
  | "TRT_BUILD_FAILED"
  | "TRT_MODE_REMOVED"
  | "ENGINE_LOAD_FAILED"
  | "CANCELLED"
  | "INVALID_DEVICE_ID"
  | "INPUT_MISMATCH"
  | "INTERNAL"
  | "TRT_RUN_FAILED"
  | "ENGINE_DISPOSED";

/** One IParserError. */
export interface ParseErrorDetail {
  /** ONNX node index, -1 when the error is not about a node. */
  node: number;
  nodeName: string;
  operator: string;
  message: string;
  /** nvonnxparser::ErrorCode without the k, e.g. "UNSUPPORTED_NODE". */
  errorCode: string;
}

/** What TensorRT said through the logger or the error recorder before a failure. */
export interface TrtMessage {
  source: "log" | "error-recorder";
  severity: TrtLogSeverity;
  /** nvinfer1::ErrorCode without the k, recorder entries only. */
  errorCode?: string;
  message: string;
}

export interface NativeError extends Error {
  code: NativeErrorCode;
  details?: ParseErrorDetail[] | TrtMessage[];
}

const NATIVE_ERROR_CODES: ReadonlySet<string> = new Set<NativeErrorCode>([
  "TRT_UNAVAILABLE",
  "TRT_PARSE_FAILED",
  "TRT_BUILD_FAILED",
  "TRT_MODE_REMOVED",
  "ENGINE_LOAD_FAILED",
  "CANCELLED",
  "INVALID_DEVICE_ID",
  "INPUT_MISMATCH",
  "INTERNAL",
  "TRT_RUN_FAILED",
  "ENGINE_DISPOSED",
]);

export function isNativeError(value: unknown): value is NativeError {
  if (!(value instanceof Error)) return false;
  const code: unknown = (value as Error & { code?: unknown }).code;
  return typeof code === "string" && NATIVE_ERROR_CODES.has(code);
}
