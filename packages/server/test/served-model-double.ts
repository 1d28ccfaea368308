import { ForgeError } from "@trtforge/core";
import {
  fixedProvider,
  type AdmittedBatch,
  type InferResult,
  type ModelEvidence,
  type OutputTensor,
  type ServedModel,
  type TokenRows,
} from "@trtforge/runtime";
import type { ModelEndpoint } from "../src/index.js";

/**
 * A ServedModel double for protocol tests: tokens are words (+[CLS]/[SEP]), the "embedding" of a
 * row is [rowTokens, sum of ids, first id, last id], and the classifier's logits make label
 * "long" win for rows of more than 3 words. Deterministic, so tests can compute what must come back.
 */
export function doubleModel(options: {
  agent: string;
  version: string;
  kind: "embedding" | "classification";
  maxBatch?: number;
  maxSeq?: number;
  /** Token ids the double takes (its ids are 101, 102 and 100 + word length); default 1000. */
  vocabSize?: number;
}): ServedModel {
  const maxSeq = options.maxSeq ?? 8;
  const evidence: ModelEvidence = {
    model_id: "test/double",
    hf_revision: "0123456789ab",
    agent: options.agent,
    version: options.version,
    backend: "onnxruntime",
    precision: "fp32",
    checksum: "ab".repeat(32),
    artifact: "model.onnx",
    fallback_reason: "ENGINE_IS_MARKER",
  };
  const isClassifier = options.kind === "classification";
  return {
    agent: options.agent,
    version: options.version,
    kind: options.kind,
    evidence,
    profile: { batch: { min: 1, opt: 2, max: options.maxBatch ?? 4 }, sequence: { min: 1, opt: 4, max: maxSeq } },
    inputs: [
      { name: "input_ids", datatype: "INT64", shape: [-1, -1] },
      { name: "attention_mask", datatype: "INT64", shape: [-1, -1] },
    ],
    outputs: isClassifier
      ? [
          { name: "logits", datatype: "FP32", shape: [-1, 2] },
          { name: "label", datatype: "BYTES", shape: [-1] },
          { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
        ]
      : [{ name: "sentence_embedding", datatype: "FP32", shape: [-1, 4] }],
    labels: isClassifier ? ["short", "long"] : undefined,
    vocabSize: options.vocabSize ?? 1000,
    tokenize(texts, { truncate }) {
      const rows = texts.map((text) => {
        const words = text
          .split(/\s+/)
          .filter((word) => word.length > 0)
          .map((word) => BigInt(100 + word.length));
        const ids = [101n, ...words, 102n];
        if (ids.length > maxSeq) {
          if (!truncate)
            throw new ForgeError(
              "TEXT_TOO_LONG" as never,
              `text ${texts.indexOf(text)} has ${ids.length} tokens, over the profile's ${maxSeq}`,
            );
          return [...ids.slice(0, maxSeq - 1), 102n];
        }
        return ids;
      });
      const seqLen = Math.max(...rows.map((row) => row.length));
      const inputIds = new BigInt64Array(rows.length * seqLen);
      const attentionMask = new BigInt64Array(rows.length * seqLen);
      rows.forEach((row, r) =>
        row.forEach((id, t) => {
          inputIds[r * seqLen + t] = id;
          attentionMask[r * seqLen + t] = 1n;
        }),
      );
      return { rows: rows.length, seqLen, inputIds, attentionMask };
    },
    async run(batch: TokenRows): Promise<OutputTensor[]> {
      const features = rowFeatures(batch);
      if (!isClassifier)
        return [{ name: "sentence_embedding", datatype: "FP32", shape: [batch.rows, 4], data: Float32Array.from(features.flat()) }];
      const logits = features.map(([tokens = 0]) => (tokens > 5 ? [0, 2] : [2, 0]));
      const probabilities = logits.map(([a = 0, b = 0]) => [
        Math.exp(a) / (Math.exp(a) + Math.exp(b)),
        Math.exp(b) / (Math.exp(a) + Math.exp(b)),
      ]);
      return [
        { name: "logits", datatype: "FP32", shape: [batch.rows, 2], data: Float32Array.from(logits.flat()) },
        { name: "label", datatype: "BYTES", shape: [batch.rows], data: logits.map(([a = 0, b = 0]) => (b > a ? "long" : "short")) },
        { name: "probabilities", datatype: "FP32", shape: [batch.rows, 2], data: Float32Array.from(probabilities.flat()) },
      ];
    },
    async dispose() {},
  };
}

export function rowFeatures(batch: TokenRows): number[][] {
  return Array.from({ length: batch.rows }, (_, r) => {
    const ids: number[] = [];
    for (let t = 0; t < batch.seqLen; t += 1)
      if (batch.attentionMask[r * batch.seqLen + t] === 1n) ids.push(Number(batch.inputIds[r * batch.seqLen + t]));
    return [ids.length, ids.reduce((a, b) => a + b, 0), ids[0] ?? 0, ids[ids.length - 1] ?? 0];
  });
}

/** An endpoint that runs each request as its own batch (no batching: the protocol is under test). */
export function directEndpoint(model: ServedModel, hooks: { onInfer?: () => Promise<void> } = {}): ModelEndpoint {
  const provider = fixedProvider(model);
  return {
    agent: model.agent,
    current: () => model,
    acquire: () => provider.acquire(),
    async infer(request: AdmittedBatch): Promise<InferResult> {
      try {
        await hooks.onInfer?.();
        const outputs = await request.model.run(request.tokens);
        const wanted = request.outputs;
        return {
          outputs: wanted === undefined ? outputs : outputs.filter((tensor) => wanted.includes(tensor.name)),
          evidence: request.model.evidence,
        };
      } finally {
        request.release();
      }
    },
  };
}
