import type {
  BuildEngineOptions,
  CudaDevice,
  HostTensor,
  IoTensor,
  NativeLogEntry,
  ParseErrorDetail,
  TrtDataType,
} from "../binding-types.js";

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
