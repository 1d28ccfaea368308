import type { DeviceMap } from "@trtforge/config";
import type { ModelRef } from "./model-ref.js";

/** One worker process: the GPU it is pinned to (CUDA_VISIBLE_DEVICES) or none, and its models. */
export interface WorkerPlan {
  name: string;
  gpu: number | undefined;
  /** The GPU's UUID where the driver (NVML) says it; the worker is pinned by it. */
  gpuUuid?: string;
  models: ModelRef[];
}

export interface PlanInput {
  models: readonly ModelRef[];
  /** GPUs on this host; 0 when none can be used. */
  gpuCount: number;
  cpuWorkers: number;
  deviceMap: DeviceMap | undefined;
  /** The engine file name of each model's version (as build-engine named it), for the device map. */
  engineNames: ReadonlyMap<string, string | undefined>;
  /** UUID of each GPU by index (nvidia-smi's order), where NVML reports them. */
  gpuUuids?: readonly string[];
}

/**
 * One worker per GPU that the device map gives a model: an engine goes to each GPU its entry lists
 * (a model on several GPUs is served by each of those workers), an engine not in the map to the
 * default device, else GPU 0. With no GPU, `cpuWorkers` workers that each load every model.
 * `gpuUuids` (index → UUID, as NVML and nvidia-smi number the GPUs) lets each worker be pinned by
 * UUID, which names the same GPU whatever order CUDA enumerates them in.
 */
export function planWorkers(input: PlanInput): WorkerPlan[] {
  if (input.gpuCount === 0) {
    return Array.from({ length: input.cpuWorkers }, (_, index) => ({ name: `cpu${index}`, gpu: undefined, models: [...input.models] }));
  }
  const byGpu = new Map<number, ModelRef[]>();
  for (const model of input.models) {
    const engine = input.engineNames.get(model.agent);
    const mapped =
      engine === undefined
        ? input.deviceMap?.defaultDevice === undefined
          ? []
          : [input.deviceMap.defaultDevice]
        : (input.deviceMap?.devicesFor(engine) ?? []);
    const gpus = mapped.filter((gpu) => gpu < input.gpuCount);
    for (const gpu of gpus.length === 0 ? [0] : gpus) byGpu.set(gpu, [...(byGpu.get(gpu) ?? []), model]);
  }
  return [...byGpu.entries()]
    .sort(([a], [b]) => a - b)
    .map(([gpu, models]) => {
      const uuid = input.gpuUuids?.[gpu];
      return { name: `gpu${gpu}`, gpu, ...(uuid === undefined ? {} : { gpuUuid: uuid }), models };
    });
}
