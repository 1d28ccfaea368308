import { loadAddon, type AddonStatus } from "@trtforge/native";
import type { GpuSampler } from "../metrics/gpu-sampler.js";

/** The GPUs this host can serve on, and their UUIDs by index where the driver (NVML) reports them. */
export interface HostGpus {
  count: number;
  uuids: string[] | undefined;
}

/**
 * One look at the host's GPUs: as many as the GPU sampler (NVML) reports, with their UUIDs in its
 * index order (nvidia-smi's), else as many CUDA devices as the TensorRT addon sees, else 0. Without
 * the addon no engine can load, so the fallback workers are the right plan even where a GPU exists.
 */
export async function hostGpus(sampler: GpuSampler | undefined, addon: () => AddonStatus = loadAddon): Promise<HostGpus> {
  const samples = sampler === undefined ? null : await sampler.sample().catch(() => null);
  if (samples !== null && samples.length > 0) {
    return { count: samples.length, uuids: [...samples].sort((a, b) => a.index - b.index).map((sample) => sample.uuid) };
  }
  const status = addon();
  if (!status.available) return { count: 0, uuids: undefined };
  try {
    return { count: status.binding.devices().length, uuids: undefined };
  } catch {
    return { count: 0, uuids: undefined };
  }
}

/** How many GPUs hostGpus finds. */
export async function countGpus(sampler: GpuSampler | undefined, addon: () => AddonStatus = loadAddon): Promise<number> {
  return (await hostGpus(sampler, addon)).count;
}
