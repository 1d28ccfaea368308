import { toForgeError } from "@trtforge/core";
import { createBatcher, openModelSlot, type Batcher, type ModelSlot, type ModelSlotOptions } from "@trtforge/runtime";
import type { ModelEndpoint } from "../endpoint.js";
import type { CanaryRef, ShadowRef } from "../rollout/candidate-ref.js";
import { RolloutMetrics } from "../rollout/rollout-metrics.js";
import { createRollout } from "../rollout/rollout.js";
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
  const { logger } = options;
  const opened: { slot: ModelSlot; batcher: Batcher }[] = [];
  const canaries = new Map<string, { ref: CanaryRef; slot: ModelSlot; batcher: Batcher }>();
  const closing = new Set<Promise<void>>();
  const closeAll = async (): Promise<void> => {
    for (const { slot, batcher } of [...opened, ...canaries.values()]) {
      await batcher.close();
      await slot.close();
    }
    await Promise.all([...closing]);
  };
  const batching = {
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
    maxQueueDelayMs: options.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS,
  };
  const slotOptions: ModelSlotOptions = {
    logger,
    deviceId: 0,
    requireTensorRT: options.requireTensorrt,
    onnxVariant: options.onnxVariant,
    onnxCuda: options.gpu ?? false,
    requireGpu: options.requireGpu ?? false,
    ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
    // The worker is pinned by UUID where NVML gave one (CUDA_VISIBLE_DEVICES=GPU-…).
    ...(options.gpu === true && process.env.CUDA_VISIBLE_DEVICES?.startsWith("GPU-") ? { gpuUuid: process.env.CUDA_VISIBLE_DEVICES } : {}),
  };
  const newBatcher = (): Batcher => createBatcher({ ...batching, onBatch: (report) => options.metrics.observeBatch(report), logger });
  try {
    for (const ref of options.models) {
      const slot: ModelSlot = await openModelSlot(
        { storeRoot: options.storeRoot, agent: ref.agent, ...(ref.version === undefined ? {} : { version: ref.version }) },
        {
          ...slotOptions,
          onSwap: () => {
            if (slot === undefined) return;
            options.metrics.versionServing(slot.current.evidence);
            options.onSwap(slot.current);
          },
          onSwapRefused: () => options.metrics.swapRefused(ref.agent),
        },
      );
      options.metrics.versionServing(slot.current.evidence);
      opened.push({ slot, batcher: newBatcher() });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const rolloutMetrics = new RolloutMetrics(options.metrics.registry);
  // A canary is opened like a primary (verified, warmed up), pinned to its version; one that fails
  // is reported and left out, and the primary serves alone. A shadow is never opened here: it runs
  // in the shadow process (its own, at the lowest CPU priority), reached through shadowTarget.
  const shadows = new Map<string, ShadowRef>();
  for (const ref of options.candidates ?? []) {
    if (!opened.some(({ slot }) => slot.current.agent === ref.agent)) continue;
    if (ref.role === "shadow") {
      if (options.shadowTarget === undefined) continue;
      shadows.set(ref.agent, ref);
      rolloutMetrics.candidateServing(ref.agent, ref.version, ref.role);
      continue;
    }
    try {
      const slot = await openModelSlot({ storeRoot: options.storeRoot, agent: ref.agent, version: ref.version }, slotOptions);
      canaries.set(ref.agent, { ref, slot, batcher: newBatcher() });
      rolloutMetrics.candidateServing(ref.agent, ref.version, ref.role);
      logger.info(
        { agent: ref.agent, version: ref.version, role: ref.role, backend: slot.current.evidence.backend },
        `${ref.role} candidate serving`,
      );
    } catch (err) {
      const error = toForgeError(err);
      rolloutMetrics.candidateDropped(ref.agent, ref.version, ref.role, "load");
      logger.error(
        { agent: ref.agent, version: ref.version, role: ref.role, code: error.code, err: error.message },
        `${ref.role} candidate could not be opened; the primary serves alone`,
      );
    }
  }
  const endpointOf = (slot: ModelSlot, batcher: Batcher): ModelEndpoint => ({
    agent: slot.current.agent,
    batching,
    current: () => slot.current,
    acquire: () => slot.acquire(),
    infer: (request) => batcher.infer(request),
  });
  const endpoints: ModelEndpoint[] = opened.map(({ slot, batcher }) => {
    const primary = endpointOf(slot, batcher);
    const canary = canaries.get(primary.agent);
    const shadow = shadows.get(primary.agent);
    if (canary === undefined && shadow === undefined) return primary;
    const rollout = createRollout({
      agent: primary.agent,
      ...(canary === undefined ? {} : { canary: { endpoint: endpointOf(canary.slot, canary.batcher), percent: canary.ref.percent } }),
      ...(shadow === undefined || options.shadowTarget === undefined ? {} : { shadow: { target: options.shadowTarget(shadow, primary) } }),
      primaryBusy: () => batcher.busy,
      metrics: rolloutMetrics,
      logger,
      onDrop: (role) => {
        if (role !== "canary" || canary === undefined) return;
        canaries.delete(primary.agent);
        const closed = canary.batcher.close().then(() => canary.slot.close());
        closing.add(closed);
        void closed.catch((err: unknown) => logger.error({ agent: primary.agent, err }, "closing a dropped candidate failed"));
      },
    });
    return { ...primary, rollout };
  });
  return { endpoints, close: closeAll };
}
