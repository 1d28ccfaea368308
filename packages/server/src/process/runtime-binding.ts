import { createBatcher, openModelSlot, type Batcher, type ModelSlot } from "@trtforge/runtime";
import type { ModelEndpoint } from "../endpoint.js";
import type { OpenedModels, OpenModelsOptions } from "./runtime-module.js";

export const DEFAULT_MAX_QUEUE = 128;
/**
 * 0, as in Triton: a request waits only while its model is busy, then runs with whatever queued
 * meanwhile. On the CPU a delay buys nothing (batching does not cut the work per article) and adds
 * its whole length to a lone request.
 */
export const DEFAULT_MAX_QUEUE_DELAY_MS = 0;

/**
 * The worker's default runtime module: each model is a ModelSlot (verified open, warm-up, hot swap
 * on `current`) behind a dynamic batcher. The worker process is pinned to one GPU by
 * CUDA_VISIBLE_DEVICES, so the engine always loads on device 0 as the process sees it.
 */
export async function openModels(options: OpenModelsOptions): Promise<OpenedModels> {
  const opened: { slot: ModelSlot; batcher: Batcher }[] = [];
  const closeAll = async (): Promise<void> => {
    for (const { slot, batcher } of opened) {
      await batcher.close();
      await slot.close();
    }
  };
  try {
    for (const ref of options.models) {
      const { logger } = options;
      const slot: ModelSlot = await openModelSlot(
        { storeRoot: options.storeRoot, agent: ref.agent, ...(ref.version === undefined ? {} : { version: ref.version }) },
        {
          logger,
          deviceId: 0,
          requireTensorRT: options.requireTensorrt,
          onnxVariant: options.onnxVariant,
          onnxCuda: options.gpu ?? false,
          requireGpu: options.requireGpu ?? false,
          // The worker is pinned by UUID where NVML gave one (CUDA_VISIBLE_DEVICES=GPU-…).
          ...(options.gpu === true && process.env.CUDA_VISIBLE_DEVICES?.startsWith("GPU-")
            ? { gpuUuid: process.env.CUDA_VISIBLE_DEVICES }
            : {}),
          onSwap: () => {
            if (slot !== undefined) options.metrics.versionServing(slot.current.evidence);
          },
          onSwapRefused: () => options.metrics.swapRefused(ref.agent),
        },
      );
      options.metrics.versionServing(slot.current.evidence);
      const batcher = createBatcher({
        maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
        maxQueueDelayMs: options.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS,
        onBatch: (report) => options.metrics.observeBatch(report),
        logger,
      });
      opened.push({ slot, batcher });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const batching = {
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
    maxQueueDelayMs: options.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS,
  };
  const endpoints: ModelEndpoint[] = opened.map(({ slot, batcher }) => ({
    agent: slot.current.agent,
    batching,
    current: () => slot.current,
    acquire: () => slot.acquire(),
    infer: (request) => batcher.infer(request),
  }));
  return { endpoints, close: closeAll };
}
