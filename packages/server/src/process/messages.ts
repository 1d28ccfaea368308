import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { HttpCall, HttpReply } from "../http/routes.js";
import type { CandidateRef } from "../rollout/candidate-ref.js";
import type { ModelRef } from "./model-ref.js";
import { maxTextBytes, type OnnxVariant, type OutputTensor, type ServedModel } from "@trtforge/runtime";
import type { InferCall } from "../protocol/infer-request.js";
import type { FailureReason } from "../protocol/protocol-error.js";
import type { DropStage } from "../rollout/rollout-metrics.js";

/**
 * A worker's job: "primary" serves its models (and any canary); "shadow" runs one shadow candidate
 * for the primaries, at the lowest CPU priority, and serves no client.
 */
export type WorkerRole = "primary" | "shadow";

/** What became of one shadow run: the candidate's every output, shed (the shadow is starting), or a failure. */
export type ShadowReply =
  { outcome: "ran"; outputs: OutputTensor[] } | { outcome: "shed" } | { outcome: "failed"; reason: FailureReason; message: string };

/** What a worker needs to open its models; sent once, right after the fork. */
export interface WorkerConfig {
  name: string;
  storeRoot: string;
  models: ModelRef[];
  /** Canaries and shadows; a worker opens those of the agents it serves. */
  candidates: CandidateRef[];
  maxQueue: number | undefined;
  maxQueueDelayMs: number | undefined;
  requireTensorrt: boolean;
  onnxVariant: OnnxVariant;
  /** Refuse to serve a model on the CPU (GPU_REQUIRED). */
  requireGpu: boolean;
  /** The worker is pinned to a GPU (CUDA_VISIBLE_DEVICES): ONNX Runtime tries its CUDA provider there first. */
  gpu: boolean;
  /** Module that opens the models (default: the runtime binding); tests may name another. */
  runtimeModule: string | undefined;
  logLevel: string;
  jsonLogs: boolean;
  /** ONNX Runtime intra-op threads of each session (the shadow worker's: SHADOW_INTRA_OP_THREADS); default the runtime's. */
  intraOpNumThreads?: number;
}

export interface ServedSummary {
  agent: string;
  version: string;
  /** The version's text byte limit (the runtime's maxTextBytes): the front bounds texts by it. */
  maxTextBytes: number;
}

/** What the front must know of the version serving an agent (sent at ready and after each hot swap). */
export function servedSummary(model: ServedModel): ServedSummary {
  return { agent: model.agent, version: model.version, maxTextBytes: maxTextBytes(model.profile) };
}

export type ToWorker =
  | { type: "init"; config: WorkerConfig }
  | { type: "call"; id: number; call: Omit<HttpCall, "headers"> & { headers: Record<string, string> } }
  | { type: "metrics"; id: number }
  | { type: "drain" }
  /** To the shadow worker: run the candidate of `agent` on a call the primary answered. */
  | { type: "shadow-run"; id: number; agent: string; call: InferCall }
  /** To a primary: the answer to its "shadow" message. */
  | { type: "shadow-result"; id: number; reply: ShadowReply }
  /** To a primary: its agent's shadow is gone (could not be opened, or its process exited). */
  | { type: "shadow-dropped"; agent: string; stage: Exclude<DropStage, "infer">; reason: string };

export type FromWorker =
  | { type: "ready"; served: ServedSummary[] }
  /** A hot swap: this version serves its agent now (its text byte limit may differ from the last one's). */
  | { type: "serving"; served: ServedSummary }
  | { type: "failed"; code: string; message: string; fix: string | undefined }
  | { type: "reply"; id: number; reply: HttpReply }
  | { type: "metrics"; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: "drained" }
  /** From a primary: run the shadow of `agent` on this call (after the primary answered it). */
  | { type: "shadow"; id: number; agent: string; call: InferCall }
  /** From the shadow worker: the answer to a "shadow-run". */
  | { type: "shadow-result"; id: number; reply: ShadowReply };
