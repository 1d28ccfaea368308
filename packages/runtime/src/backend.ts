import type { OutputTensor, TensorSpec, TokenRows } from "./contract.js";

/** One backend's session or engine: raw model outputs for token rows, nothing more. */
export interface BackendRunner {
  /** Token inputs the model takes, in its order. */
  readonly inputNames: readonly string[];
  /** The model's own outputs (before any classifier head). */
  readonly outputs: readonly TensorSpec[];
  run(tokens: TokenRows): Promise<OutputTensor[]>;
  release(): Promise<void>;
}

export const TOKEN_INPUTS = ["input_ids", "attention_mask", "token_type_ids"] as const;

/** Whether the runtime can feed an input of this name (tokenInput knows it). */
export function isTokenInput(name: string): boolean {
  return (TOKEN_INPUTS as readonly string[]).includes(name);
}

/** The int64 rows a token input name takes; token_type_ids default to zeros (single-segment text). */
export function tokenInput(tokens: TokenRows, name: string): BigInt64Array | undefined {
  switch (name) {
    case "input_ids":
      return tokens.inputIds;
    case "attention_mask":
      return tokens.attentionMask;
    case "token_type_ids":
      return tokens.tokenTypeIds ?? new BigInt64Array(tokens.rows * tokens.seqLen);
    default:
      return undefined;
  }
}
