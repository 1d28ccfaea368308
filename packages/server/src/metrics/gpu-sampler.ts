/** One GPU as the driver reports it at one moment (the shape @trtforge/gpu-metrics' NVML sampler returns). */
export interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** null where the GPU does not report it. */
  utilizationPercent: number | null;
}

/**
 * Reads the GPUs (the NVML reader implements it). null: the driver cannot be asked on this host;
 * the server then exports no GPU series at all, rather than zeros.
 */
export interface GpuSampler {
  sample(): Promise<GpuSample[] | null>;
}
