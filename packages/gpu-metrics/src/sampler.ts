import type { Logger } from "pino";
import { NVML_ERROR_NOT_SUPPORTED, NVML_SUCCESS, openNvml, type Nvml } from "./nvml.js";
import type { GpuSample, GpuSampler } from "./types.js";

export interface NvmlSamplerOptions {
  /** The NVML library to load (default libnvidia-ml.so.1, found by the dynamic loader like the driver's other libraries). */
  libraryPath?: string;
  logger?: Logger;
  /** Replaces the koffi binding (tests). */
  openNvml?: (libraryPath: string) => Nvml;
}

export const DEFAULT_NVML_LIBRARY = "libnvidia-ml.so.1";

/**
 * A GpuSampler reading NVML. The library is loaded and initialized at the first sample; where that
 * fails (no NVIDIA driver, no GPU) every sample is null, and the reason is logged once at info
 * level. A failure reading one GPU's memory drops that GPU from the sample; an unsupported
 * utilization counter gives utilizationPercent null.
 */
export function createNvmlSampler(options: NvmlSamplerOptions = {}): GpuSampler {
  const libraryPath = options.libraryPath ?? DEFAULT_NVML_LIBRARY;
  const open = options.openNvml ?? openNvml;
  let nvml: Nvml | null = null;
  let initialized = false;
  let unavailable = false;

  const ready = (): Nvml | null => {
    if (unavailable) return null;
    if (nvml && initialized) return nvml;
    try {
      nvml ??= open(libraryPath);
    } catch (err) {
      unavailable = true;
      options.logger?.info({ libraryPath, err: (err as Error).message }, "NVML is not available: no GPU metrics");
      return null;
    }
    const status = nvml.init();
    if (status !== NVML_SUCCESS) {
      unavailable = true;
      options.logger?.info({ libraryPath, status, reason: nvml.errorString(status) }, "nvmlInit failed: no GPU metrics");
      return null;
    }
    initialized = true;
    return nvml;
  };

  const read = (lib: Nvml): GpuSample[] | null => {
    const count = lib.deviceCount();
    if (count.status !== NVML_SUCCESS) {
      options.logger?.warn({ reason: lib.errorString(count.status) }, "nvmlDeviceGetCount failed");
      return null;
    }
    const samples: GpuSample[] = [];
    for (let index = 0; index < count.count; index++) {
      const handle = lib.handle(index);
      const uuid = handle.status === NVML_SUCCESS ? lib.uuid(handle.device) : { status: handle.status, text: "" };
      const name = handle.status === NVML_SUCCESS ? lib.name(handle.device) : { status: handle.status, text: "" };
      const memory = handle.status === NVML_SUCCESS ? lib.memory(handle.device) : { status: handle.status, memory: { total: 0, used: 0 } };
      const failed = [handle, uuid, name, memory].find((r) => r.status !== NVML_SUCCESS);
      if (failed) {
        options.logger?.warn({ index, reason: lib.errorString(failed.status) }, "NVML could not read a GPU: left out of the sample");
        continue;
      }
      const utilization = lib.utilizationGpu(handle.device);
      if (utilization.status !== NVML_SUCCESS && utilization.status !== NVML_ERROR_NOT_SUPPORTED) {
        options.logger?.warn({ index, reason: lib.errorString(utilization.status) }, "NVML could not read the GPU's utilization");
      }
      samples.push({
        index,
        uuid: uuid.text,
        name: name.text,
        memoryUsedBytes: memory.memory.used,
        memoryTotalBytes: memory.memory.total,
        utilizationPercent: utilization.status === NVML_SUCCESS ? utilization.percent : null,
      });
    }
    return samples;
  };

  return {
    sample: async () => {
      const lib = ready();
      return lib ? read(lib) : null;
    },
    close: () => {
      if (nvml && initialized) nvml.shutdown();
      initialized = false;
    },
  };
}
