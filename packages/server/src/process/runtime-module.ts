import type { Logger } from "@trtforge/core";
import type { OnnxVariant, ServedModel } from "@trtforge/runtime";
import type { ModelEndpoint } from "../endpoint.js";
import type { WorkerMetrics } from "../metrics/worker-metrics.js";
import type { CandidateRef, ShadowRef } from "../rollout/candidate-ref.js";
import type { ShadowTarget } from "../rollout/rollout.js";
import type { ModelRef } from "./model-ref.js";

export interface OpenModelsOptions {
  storeRoot: string;
  models: readonly ModelRef[];
  /**
   * Canary and shadow versions beside the served agents (serve-engine --canary, --shadow). A canary
   * is opened here; a shadow never is: it runs where shadowTarget reaches it (no shadowTarget: no shadow).
   */
  candidates?: readonly CandidateRef[];
  /** The shadow process's side of a shadow candidate (serve-engine: over IPC through the supervisor). */
  shadowTarget?: (ref: ShadowRef, primary: ModelEndpoint) => ShadowTarget;
  /** ONNX Runtime intra-op threads of every session opened here; default the runtime's. */
  intraOpNumThreads?: number;
  maxQueue: number | undefined;
  maxQueueDelayMs: number | undefined;
  requireTensorrt: boolean;
  /** Which ONNX the ONNX Runtime fallback serves (the runtime's onnxVariant; default auto). */
  onnxVariant: OnnxVariant;
  /** Refuse to serve a model on the CPU. Default false. */
  requireGpu?: boolean;
  /** The worker is pinned to a GPU: ONNX Runtime tries its CUDA provider (device 0) first. Default false. */
  gpu?: boolean;
  /** Batches and version changes go here (BatchReport, versionServing). */
  metrics: WorkerMetrics;
  /**
   * After a hot swap, with the version now serving the agent: the worker tells the supervisor,
   * whose front bounds texts by that version's profile. A module without hot swaps never calls it.
   */
  onSwap(model: ServedModel): void;
  logger: Logger;
}

/** The models a worker serves; close() drains in-flight batches and disposes every version. */
export interface OpenedModels {
  endpoints: ModelEndpoint[];
  close(): Promise<void>;
}

/** What a runtime module exports for a worker: `export const openModels: OpenModels`. */
export type OpenModels = (options: OpenModelsOptions) => Promise<OpenedModels>;
