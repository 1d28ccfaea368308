import { ForgeError } from "@trtforge/core";
import type { Precision } from "@trtforge/engine-format";
import type { SymbolicDim } from "./profile-shapes.js";

/** Everything the builder needs to know about one engine to make: model, limits, I/O, precision. */
export interface EngineTarget {
  taskName: string;
  modelId: string;
  revision: string;
  precision: Precision;
  trtVersion: string;
  maxBatchSize: number;
  optBatchSize: number;
  minSeqLen: number;
  optSeqLen: number;
  seqLen: number;
  inputs: readonly string[];
  outputs: readonly { name: string; dims: readonly SymbolicDim[] }[];
}

/** Limits that TensorRT itself would accept but that no encoder engine of ours should have. */
export const LIMITS = {
  maxBatchSize: 4096,
  seqLen: 8192,
} as const;

export function checkBatchSize(value: number, input: string): number {
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxBatchSize) {
    throw new ForgeError("INVALID_LIMIT", `${input} must be an integer from 1 to ${LIMITS.maxBatchSize}, got ${value}`, {
      input,
      fix: `pass a batch size between 1 and ${LIMITS.maxBatchSize} (JustNewsAgent engines used 100)`,
    });
  }
  return value;
}

export function checkSequenceLength(value: number, input: string): number {
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.seqLen) {
    throw new ForgeError("INVALID_LIMIT", `${input} must be an integer from 1 to ${LIMITS.seqLen}, got ${value}`, {
      input,
      fix: `pass a sequence length between 1 and ${LIMITS.seqLen} (at most the model's own limit: 512 for BERT and RoBERTa)`,
    });
  }
  return value;
}

/**
 * The ModelStore agent that holds a task's engines. Engines get their own agent so that publishing
 * one never moves the `current` of the agent whose model folder the runtime loads.
 */
export function engineAgentName(task: string): string {
  return `trt-${task}`;
}
