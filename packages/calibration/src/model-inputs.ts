import { ForgeError } from "@trtforge/core";
import { DataType, mainGraph, tensorElemTypes, type OnnxModel } from "@trtforge/onnx-graph";
import type { EncodedBatch, ModelInputName, ModelTokenizer } from "@trtforge/tokenizer";
import { Tensor } from "onnxruntime-node";

const TOKENIZER_TENSORS: readonly ModelInputName[] = ["input_ids", "attention_mask", "token_type_ids"];

/** The graph inputs fed at run time (old exporters also list initializers as inputs). */
export function runtimeInputs(model: OnnxModel): string[] {
  const graph = mainGraph(model);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.map((i) => i.name).filter((n) => !initializers.has(n));
}

/**
 * Checks that the tokenizer produces every input the ONNX model takes, as int64; inputs the
 * tokenizer produces but the model does not take are simply not fed. Returns the model's inputs.
 */
export function checkModelInputs(model: OnnxModel, tokenizer: ModelTokenizer, onnxPath: string): ModelInputName[] {
  const inputs = runtimeInputs(model);
  const produced = tokenizer.inputNames;
  const both = `${onnxPath} takes [${inputs.join(", ")}]; the tokenizer of ${tokenizer.modelDir} produces [${produced.join(", ")}]`;
  const unknown = inputs.filter((n) => !(TOKENIZER_TENSORS as readonly string[]).includes(n));
  const missing = inputs.filter(
    (n) => (TOKENIZER_TENSORS as readonly string[]).includes(n) && !(produced as readonly string[]).includes(n),
  );
  if (unknown.length > 0 || missing.length > 0) {
    const what = [
      ...(missing.length > 0 ? [`the tokenizer does not produce ${missing.join(", ")}`] : []),
      ...(unknown.length > 0 ? [`${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not a tokenizer output`] : []),
    ].join("; ");
    throw new ForgeError("INPUT_MISMATCH", `${both}: ${what}`, {
      input: onnxPath,
      fix: "calibrate the ONNX exported from this model folder (its tokenizer_config.json model_input_names must list every ONNX input), or re-export the model",
      details: { onnx_inputs: inputs, tokenizer_inputs: [...produced] },
    });
  }
  const types = tensorElemTypes(model);
  const notInt64 = inputs.filter((n) => types.get(n) !== DataType.INT64);
  if (notInt64.length > 0) {
    throw new ForgeError(
      "INPUT_MISMATCH",
      `${both}, but ${notInt64.map((n) => `${n} is ${types.get(n) === undefined ? "untyped" : `element type ${types.get(n)}`}`).join(", ")} in the ONNX model where the tokenizer gives int64`,
      {
        input: onnxPath,
        fix: "export the model with int64 token inputs (the trtforge exporter does)",
        details: { onnx_inputs: inputs, tokenizer_inputs: [...produced] },
      },
    );
  }
  return inputs as ModelInputName[];
}

/** The ONNX Runtime feeds of one tokenized batch, for the inputs the model takes. */
export function batchFeeds(batch: EncodedBatch, inputs: readonly ModelInputName[]): Record<string, Tensor> {
  const dims = [batch.batchSize, batch.seqLen];
  const feeds: Record<string, Tensor> = {};
  for (const name of inputs) {
    const data = name === "input_ids" ? batch.inputIds : name === "attention_mask" ? batch.attentionMask : batch.tokenTypeIds;
    // checkModelInputs made sure the tokenizer produces every input the model takes.
    if (data === undefined) throw new ForgeError("INTERNAL", `the tokenizer gave no ${name} although it lists it among its inputs`);
    feeds[name] = new Tensor("int64", data, dims);
  }
  return feeds;
}

/** Rows [from, from + count) of a batch, sharing its memory. */
export function rowsOf(batch: EncodedBatch, from: number, count: number): EncodedBatch {
  const start = from * batch.seqLen;
  const end = (from + count) * batch.seqLen;
  return {
    batchSize: count,
    seqLen: batch.seqLen,
    inputIds: batch.inputIds.subarray(start, end),
    attentionMask: batch.attentionMask.subarray(start, end),
    ...(batch.tokenTypeIds === undefined ? {} : { tokenTypeIds: batch.tokenTypeIds.subarray(start, end) }),
  };
}
