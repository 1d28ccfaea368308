import type { GpuSampler as NvmlGpuSampler } from "@trtforge/gpu-metrics";

export type { GpuSample } from "@trtforge/gpu-metrics";

/**
 * What the server asks of a GPU reader (@trtforge/gpu-metrics' NVML sampler, or a test's): the
 * figures now, or null where the driver cannot be asked. With null the server exports no GPU series
 * at all, rather than zeros.
 */
export type GpuSampler = Pick<NvmlGpuSampler, "sample">;
