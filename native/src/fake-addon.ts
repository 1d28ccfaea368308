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
  LoadEngineOptions,
  NativeEngine,
  NativeError,
  ParseErrorDetail,
  TrtLogSeverity,
  TrtMessage,
} from "./binding-types.js";
import { checkBuildOptions, checkCallbacks } from "./fake/build-options.js";
import { FakeEngine } from "./fake/engine.js";
import { fakeInspectorJson } from "./fake/inspector.js";
import { checkProfilesAgainstInputs, defaultIoTensors, defaultLayers, describeParseError } from "./fake/network.js";
import type { FakeAddonOptions, FakePhase } from "./fake/options.js";
import { FAKE_TIMING_CACHE_PREFIX, makeFakePlan, readFakePlan, readFakeTimingCache } from "./fake/plan.js";
import { isInteger, nativeError, SEVERITY_RANK, typeError } from "./fake/values.js";

export type { FakeAddonOptions, FakeLayer, FakePhase } from "./fake/options.js";
export { fakeInspectorJson } from "./fake/inspector.js";
export { FAKE_PLAN_MARKER, makeFakePlan } from "./fake/plan.js";

export interface FakeAddon extends AddonBinding {
  /** Every options object buildEngine accepted, in order. */
  readonly builds: BuildEngineOptions[];
}

const DEFAULT_VERSIONS: Record<10 | 11, string> = { 10: "10.16.0.72", 11: "11.1.0.106" };

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
    children: [
      { name: "Optimizing network", nbSteps: 2 },
      { name: "Timing layers", nbSteps: 4 },
      { name: "Writing plan", nbSteps: 1 },
    ],
  },
];

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
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
      // A BigInt deviceId is valid, as in the real addon (readInteger).
      const deviceId = Number(buildOptions.deviceId ?? 0);
      const failure = deviceFailure(deviceId);
      if (failure) throw failure;
      for (const entry of options.logs ?? []) log(entry.severity, entry.message);

      const path = buildOptions.onnxPath;
      const parseErrors: ParseErrorDetail[] = existsSync(path)
        ? (options.parseErrors ?? [])
        : [{ node: -1, nodeName: "", operator: "", message: `failed to open ${path}`, errorCode: "MODEL_DESERIALIZE_FAILED" }];
      if (parseErrors.length > 0) {
        const more = parseErrors.length > 1 ? ` (and ${parseErrors.length - 1} more)` : "";
        throw nativeError(
          "TRT_PARSE_FAILED",
          `TensorRT's ONNX parser could not parse ${path}: ${describeParseError(parseErrors[0]!)}${more}`,
          structuredClone(parseErrors),
        );
      }
      if (cancelled) throw nativeError("CANCELLED", "the build was cancelled after parsing");

      const io =
        typeof options.ioTensors === "function" ? options.ioTensors(buildOptions) : (options.ioTensors ?? defaultIoTensors(buildOptions));
      const profileFailure = options.ioTensors === undefined ? undefined : checkProfilesAgainstInputs(buildOptions, io);
      if (profileFailure) throw profileFailure;

      const previousEntries = readFakeTimingCache(buildOptions.timingCache ?? undefined);
      if (previousEntries === undefined) {
        log(
          "warning",
          "trtforge: the timing cache given was refused (made by another TensorRT version or GPU?); building with an empty one",
        );
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
        engine: makeFakePlan({
          trtVersion: version,
          precision: buildOptions.precision,
          typing: buildOptions.typing ?? "strong",
          ioTensors: io,
          inspectorJson,
        }),
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
    if (loadOptions?.onLog !== undefined && typeof loadOptions.onLog !== "function")
      throw typeError("loadEngine: options.onLog must be a function");
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
