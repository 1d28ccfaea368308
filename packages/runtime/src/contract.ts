/**
 * The runtime's contract with the server (packages/server) and the GPU smoke test: what a served
 * model is, what one inference takes and returns, and what the batcher reports for metrics.
 * The server speaks the Open Inference Protocol over these types; nothing here knows HTTP.
 * Changing a name here is a change to both sides: keep it small and deliberate.
 */

import type { ExecutionCost } from "./execution-cost.js";
import type { Profile } from "@trtforge/core";

/** Open Inference Protocol datatypes the runtime produces or accepts. */
export type TensorDatatype = "BYTES" | "INT64" | "INT32" | "FP32" | "FP16" | "BOOL";

/** A tensor as the protocol describes it; -1 for a variable dimension, batch first. */
export interface TensorSpec {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
}

export type BackendName = "tensorrt" | "onnxruntime";

/** Why the engine was not used. Stable codes: logged once, in model metadata, in metrics. */
export type FallbackReason =
  | "ENGINE_IS_MARKER"
  | "TRT_UNAVAILABLE" // no addon, no TensorRT library, or no GPU/driver
  | "TRT_VERSION_MISMATCH"
  | "COMPUTE_CAPABILITY_MISMATCH"
  | "ENGINE_CHECKSUM_MISMATCH"
  | "ENGINE_DESERIALIZE_FAILED"
  | "ENGINE_VERIFY_FAILED" // any other verify-engine problem
  | "FORCED_ONNXRUNTIME" // the operator asked for the fallback backend
  | "TRTRTX_RUNTIME_UNAVAILABLE"; // a TensorRT-RTX plan: this runtime has no TensorRT-RTX backend

/** What every response and the model metadata carry so that a consumer can record which model decided. */
export interface ModelEvidence {
  model_id: string;
  hf_revision: string;
  agent: string;
  version: string;
  backend: BackendName;
  precision: string;
  /** sha256 of the artifact actually serving: the engine, or the ONNX file the fallback runs. */
  checksum: string;
  /** The file in the store version that serves (engine or ONNX name). */
  artifact: string;
  fallback_reason?: FallbackReason;
  /** ONNX Runtime only: the execution provider serving (cuda on a GPU worker whose provider loaded, else cpu). */
  execution_provider?: "cuda" | "cpu";
  /** ONNX Runtime on a GPU worker, served on the CPU: why its CUDA provider did not serve (a CudaFallbackReason). */
  cuda_fallback_reason?: string;
  /** TensorRT, and ONNX Runtime on CUDA where the worker is pinned by UUID: the GPU the engine runs on, as nvidia-smi names it, and its compute capability. */
  gpu_uuid?: string;
  compute_capability?: string;
}

/** Rows of token ids ready for the model, row-major [rows, seqLen]. */
export interface TokenRows {
  rows: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
}

/** One output tensor, row-major, batch first. BYTES tensors hold strings. */
export type OutputTensor =
  | { name: string; datatype: "FP32"; shape: number[]; data: Float32Array }
  | { name: string; datatype: "INT64"; shape: number[]; data: BigInt64Array }
  | { name: string; datatype: "BYTES"; shape: number[]; data: string[] };

export type ModelKind = "embedding" | "classification";

/**
 * One loaded store version on one backend. `run` takes rows admitted for this version (admit():
 * at most profile.batch.max rows whose seqLen lies in profile.sequence's [min, max], from its own tokenizer or
 * checked against its vocabularies; the batcher's merges of them) and, trusting that, returns every output (classifiers: also `label` BYTES [rows] from
 * id2label and `probabilities` FP32 [rows, classes], softmax or sigmoid as the head is single- or
 * multi-label).
 */
export interface ServedModel {
  readonly agent: string;
  readonly version: string;
  readonly kind: ModelKind;
  readonly evidence: ModelEvidence;
  /**
   * The engine's optimization profile as its metadata records it (profileOfMetadata): the batcher,
   * admission and the server's metadata read their bounds here. The ONNX fallback serves within the
   * same profile, so a client sees one model whichever backend runs.
   */
  readonly profile: Profile;
  /** Token inputs the model takes (input_ids, attention_mask, token_type_ids where used), INT64, [-1, -1]. */
  readonly inputs: TensorSpec[];
  /** Model outputs plus label/probabilities for classifiers. */
  readonly outputs: TensorSpec[];
  /** id2label in class order; undefined for embedding models. */
  readonly labels: readonly string[] | undefined;
  /** Token ids run 0..vocabSize-1 (config.json's vocab_size); undefined where the version does not say. */
  readonly vocabSize?: number;
  /** token_type_ids run 0..typeVocabSize-1 (config.json's type_vocab_size); undefined where unknown. */
  readonly typeVocabSize?: number;
  /**
   * False where a row's outputs would depend on the other rows of its batch (dynamic int8: activation
   * scales from the whole batch): `run` then runs each row alone, and batchers need not merge
   * requests for it. Undefined means true.
   */
  readonly rowsIndependent?: boolean;
  /**
   * What one execution costs on this host, measured at load (measureExecutionCost) where the backend
   * pays for padding; the batcher groups rows by length with it. Undefined: the backend's default
   * (DEFAULT_EXECUTION_COST).
   */
  readonly executionCost?: ExecutionCost;
  /**
   * The model's own tokenizer. Rows longer than profile.sequence.max tokens, and texts over
   * maxTextBytes(profile) UTF-8 bytes (checked before tokenizing), throw TEXT_TOO_LONG unless
   * truncate is true.
   */
  tokenize(texts: readonly string[], options: { truncate: boolean }): TokenRows;
  run(batch: TokenRows): Promise<OutputTensor[]>;
  /** Frees the engine or session; idempotent; waits for runs in flight. */
  dispose(): Promise<void>;
}

/** What the batcher reports after each executed batch (the server turns it into metrics). */
export interface BatchReport {
  agent: string;
  version: string;
  backend: BackendName;
  /** Requests merged into this batch. */
  requests: number;
  rows: number;
  /** The sequence length the batch ran at (its longest request's). */
  seqLen: number;
  /** Seconds each merged request waited in the queue before its batch started. */
  queueSeconds: number[];
  computeSeconds: number;
  ok: boolean;
}

export interface InferResult {
  outputs: OutputTensor[];
  /** The version that served this request (after a hot swap, the new one). */
  evidence: ModelEvidence;
}
