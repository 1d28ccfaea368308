import type { DeviceMap } from "@trtforge/config";
import type { ModelRef } from "./model-ref.js";

/** One worker process: the GPU it is pinned to (CUDA_VISIBLE_DEVICES) or none, and its models. */
export interface WorkerPlan {
  name: string;
  gpu: number | undefined;
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
}

/**
 * One worker per GPU that the device map gives a model (an engine not in the map goes to the
 * default device, else GPU 0); with no GPU, `cpuWorkers` workers that each load every model.
 */
export function planWorkers(input: PlanInput): WorkerPlan[] {
  if (input.gpuCount === 0) {
    return Array.from({ length: input.cpuWorkers }, (_, index) => ({ name: `cpu${index}`, gpu: undefined, models: [...input.models] }));
  }
  const byGpu = new Map<number, ModelRef[]>();
  for (const model of input.models) {
    const engine = input.engineNames.get(model.agent);
    const mapped = engine === undefined ? input.deviceMap?.defaultDevice : input.deviceMap?.deviceFor(engine);
    const gpu = mapped !== undefined && mapped < input.gpuCount ? mapped : 0;
    byGpu.set(gpu, [...(byGpu.get(gpu) ?? []), model]);
  }
  return [...byGpu.entries()].sort(([a], [b]) => a - b).map(([gpu, models]) => ({ name: `gpu${gpu}`, gpu, models }));
}
