export * from "./contract.js";
export { openServedModel, warmUp, WARMUP_TEXTS, type OpenedModel, type OpenModelOptions } from "./served-model.js";
export type { ModelSource } from "./store-version.js";
export { chooseOnnx, FP32_ONNX, ONNX_VARIANTS, QDQ_ONNX, type OnnxChoice, type OnnxVariant } from "./onnx-choice.js";
export { reasonOfProblems } from "./engine-gate.js";
export { limitsOf } from "./limits.js";
export { mergeRows, padRows, sliceRows } from "./token-rows.js";
export { createBatcher, type Batcher, type BatcherOptions, type ModelLease, type ModelProvider } from "./batcher.js";
export { ModelSlot, openModelSlot, type ModelSlotOptions } from "./model-slot.js";
