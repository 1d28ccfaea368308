export type { GpuSample, GpuSampler } from "./types.js";
export { createNvmlSampler, DEFAULT_NVML_LIBRARY, type NvmlSamplerOptions } from "./sampler.js";
export { NVML_ERROR_NOT_SUPPORTED, NVML_SUCCESS, openNvml, type Nvml, type NvmlMemory } from "./nvml.js";
