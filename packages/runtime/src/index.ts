export * from "./contract.js";
export { openServedModel, warmUp, WARMUP_TEXTS, type OpenedModel, type OpenModelOptions } from "./served-model.js";
export type { ModelSource } from "./store-version.js";
export { chooseOnnx, ONNX_VARIANTS, type OnnxChoice, type OnnxVariant } from "./onnx-choice.js";
export { reasonOfProblems } from "./engine-gate.js";
export { isTokenInput, TOKEN_INPUTS, tokenInput } from "./backend.js";
export { mergeRows, padRows, sliceRows } from "./token-rows.js";
export { lengthGroups, type RowsAndLength } from "./length-groups.js";
export {
  DEFAULT_EXECUTION_COST,
  fitExecutionCost,
  measureExecutionCost,
  syntheticRows,
  type ExecutionCost,
  type TimedRun,
} from "./execution-cost.js";
export { createBatcher, type Batcher, type BatcherOptions } from "./batcher.js";
export { admit, fixedProvider, type AdmissionInput, type AdmittedBatch, type ModelLease, type ModelProvider } from "./admission.js";
export { ModelSlot, openModelSlot, type ModelSlotOptions } from "./model-slot.js";
export { engineFileOf } from "./version-files.js";
export { openVerifiedVersion, type VerifiedVersion } from "./store-version.js";
export { findEngine, modelConfigPath, tokenizerDir } from "./version-files.js";
export { readClassifierHead, type ClassifierHead } from "./classifier-head.js";
export { boundTextBytes, maxTextBytes, MAX_TEXT_BYTES_PER_TOKEN } from "./text-bytes.js";
export {
  classifyCudaError,
  diagnoseProviderLoad,
  CUDA_FALLBACK_REASONS,
  ORT_CUDA_PROVIDER_LIBRARIES,
  ortBindingDir,
  probeCudaProvider,
  type CudaFallbackReason,
  type ProviderLoad,
  type ProviderProbe,
} from "./cuda-provider.js";
export { FRONT_CORES, ortThreading, SPIN_MIN_CORES, type OrtThreading } from "./ort-backend.js";
