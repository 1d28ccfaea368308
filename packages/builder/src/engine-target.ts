import type { Profile } from "@trtforge/core";
import type { Precision } from "@trtforge/engine-format";
import type { SymbolicDim } from "./profile-shapes.js";

/** Everything the builder needs to know about one engine to make: model, limits, I/O, precision. */
export interface EngineTarget {
  profile: Profile;
  /** "strong": the network's types are the ONNX's (the metadata's strongly_typed). */
  typing: "strong" | "weak";
  taskName: string;
  modelId: string;
  revision: string;
  precision: Precision;
  trtVersion: string;
  inputs: readonly string[];
  outputs: readonly { name: string; dims: readonly SymbolicDim[] }[];
}

/**
 * The ModelStore agent that holds a task's engines. Engines get their own agent so that publishing
 * one never moves the `current` of the agent whose model folder the runtime loads.
 */
export function engineAgentName(task: string): string {
  return `trt-${task}`;
}
