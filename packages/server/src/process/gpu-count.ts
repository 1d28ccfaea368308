import { loadAddon, type AddonStatus } from "@trtforge/native";
import type { GpuSampler } from "../metrics/gpu-sampler.js";

/**
 * GPUs this host can serve on: as many as the GPU sampler (NVML) reports, else as many CUDA devices
 * as the TensorRT addon sees, else 0. Without the addon no engine can load, so the fallback workers
 * are the right plan even where a GPU exists.
 */
export async function countGpus(sampler: GpuSampler | undefined, addon: () => AddonStatus = loadAddon): Promise<number> {
  const samples = sampler === undefined ? null : await sampler.sample().catch(() => null);
  if (samples !== null && samples.length > 0) return samples.length;
  const status = addon();
  if (!status.available) return 0;
  try {
    return status.binding.devices().length;
  } catch {
    return 0;
  }
}
