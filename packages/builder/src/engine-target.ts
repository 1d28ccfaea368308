import { ForgeError } from "@trtforge/core";
import { PROFILE_LIMITS, type Precision, type ShapeLimits } from "@trtforge/engine-format";
import type { SymbolicDim } from "./profile-shapes.js";

/** Everything the builder needs to know about one engine to make: model, limits, I/O, precision. */
export interface EngineTarget extends ShapeLimits {
  taskName: string;
  modelId: string;
  revision: string;
  precision: Precision;
  trtVersion: string;
  inputs: readonly string[];
  outputs: readonly { name: string; dims: readonly SymbolicDim[] }[];
}


export function checkBatchSize(value: number, input: string): number {
  if (!Number.isInteger(value) || value < 1 || value > PROFILE_LIMITS.maxBatchSize) {
    throw new ForgeError("INVALID_LIMIT", `${input} must be an integer from 1 to ${PROFILE_LIMITS.maxBatchSize}, got ${value}`, {
      input,
      fix: `pass a batch size between 1 and ${PROFILE_LIMITS.maxBatchSize} (JustNewsAgent engines used 100)`,
    });
  }
  return value;
}

export function checkSequenceLength(value: number, input: string): number {
  if (!Number.isInteger(value) || value < 1 || value > PROFILE_LIMITS.seqLen) {
    throw new ForgeError("INVALID_LIMIT", `${input} must be an integer from 1 to ${PROFILE_LIMITS.seqLen}, got ${value}`, {
      input,
      fix: `pass a sequence length between 1 and ${PROFILE_LIMITS.seqLen} (at most the model's position table, e.g. 512 for BERT and RoBERTa)`,
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
