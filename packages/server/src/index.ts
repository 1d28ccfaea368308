export { endpointSet, type EndpointSet, type ModelEndpoint } from "./endpoint.js";
export { FAILURE_REASONS, ProtocolError, type FailureReason } from "./protocol/protocol-error.js";
export { decodeInferBody, tensorBytes, tensorJsonData } from "./protocol/binary-codec.js";
export { inferRequestSchema, type InferCall, type DecodedInput } from "./protocol/infer-request.js";
export { runInfer, TEXT_INPUT, type InferOutcome } from "./protocol/infer.js";
export { modelMetadata, serverMetadata, evidenceParameters, SERVER_EXTENSIONS } from "./protocol/metadata.js";
export { handleModelCall, HEADER_LENGTH, type HttpCall, type HttpReply } from "./http/routes.js";
export { METRIC } from "./metrics/names.js";
export { FrontMetrics } from "./metrics/front-metrics.js";
export { WorkerMetrics } from "./metrics/worker-metrics.js";
export type { GpuSample, GpuSampler } from "./metrics/gpu-sampler.js";
export { DEFAULT_MAX_BODY_BYTES, startInProcessServer, type InProcessServerOptions, type RunningServer } from "./in-process.js";
export { startServer, type ServeOptions, type ServingServer, type WorkerStatus } from "./process/supervisor.js";
export { parseModelRef, formatModelRef, type ModelRef } from "./process/model-ref.js";
export { planWorkers, type WorkerPlan } from "./process/plan.js";
export { DEFAULT_RESTART_POLICY, restartDelay, type RestartPolicy } from "./process/worker-handle.js";
export { DEFAULT_MAX_QUEUE, DEFAULT_MAX_QUEUE_DELAY_MS } from "./process/runtime-binding.js";
export type { OpenModels, OpenModelsOptions, OpenedModels } from "./process/runtime-module.js";
export { countGpus, hostGpus, type HostGpus } from "./process/gpu-count.js";
export { checkCandidates, formatCandidateRef, parseCanaryRef, parseShadowRef, type CandidateRef } from "./rollout/candidate-ref.js";
export { goesToCanary, idPercentile } from "./rollout/canary.js";
export { compareOutputs, type RowComparison } from "./rollout/compare.js";
export { RolloutMetrics } from "./rollout/rollout-metrics.js";
export {
  createRollout,
  endpointShadowTarget,
  SHADOW_DISAGREE_COSINE,
  type Rollout,
  type RolloutOptions,
  type ShadowTarget,
} from "./rollout/rollout.js";
