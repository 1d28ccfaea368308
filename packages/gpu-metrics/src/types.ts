/** One GPU as NVML reports it. NVML numbers every GPU of the host, whatever CUDA_VISIBLE_DEVICES says; join on `uuid`. */
export interface GpuSample {
  /** NVML's index of the GPU on this host (not CUDA's ordinal under CUDA_VISIBLE_DEVICES). */
  index: number;
  /** "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi and the addon's devices() spell it. */
  uuid: string;
  name: string;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** Percent of the last sample period in which a kernel ran; null where the GPU does not report it (never 0 for "unknown"). */
  utilizationPercent: number | null;
}

export interface GpuSampler {
  /** Every GPU's figures now; null where NVML (the NVIDIA driver) is absent or cannot be initialized. */
  sample(): Promise<GpuSample[] | null>;
  /** Shuts NVML down (nvmlShutdown); sample() initializes it again when called afterwards. */
  close(): void;
}
