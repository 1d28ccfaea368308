export { checkHost, type CheckHostOptions, type HostReport } from "./check-host.js";
export { formatHostReport } from "./format-report.js";
export {
  HOST_MODES,
  MODE_REQUIREMENTS,
  assertModeReady,
  evaluateModes,
  isHostMode,
  type HostMode,
  type ModeReadiness,
  type ModeReadinessSource,
  type ModeReport,
} from "./modes.js";
export type { ProbeId, ProbeResult, ProbeStatus } from "./probe-result.js";
export type { HostDeps } from "./host-deps.js";
export { hostDeps } from "./default-host-deps.js";
export { probeNode } from "./probes/node.js";
export { probePython } from "./probes/python.js";
export { probeOnnxruntimeNode } from "./probes/onnxruntime-node.js";
export { probeNativeAddon } from "./probes/native-addon.js";
export { probeOrtCudaProvider } from "./probes/ort-cuda.js";
export { GPU_QUERY_ARGS, parseDriverCudaVersion, parseGpuList, probeNvidia, type GpuInfo, type NvidiaProbe } from "./probes/nvidia.js";
