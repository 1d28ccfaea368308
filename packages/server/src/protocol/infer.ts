import { isForgeError } from "@trtforge/core";
import {
  boundTextBytes,
  isTokenInput,
  maxTextBytes,
  TOKEN_INPUTS,
  type InferResult,
  type ModelEvidence,
  type OutputTensor,
  type ServedModel,
  type TokenRows,
} from "@trtforge/runtime";
import type { ModelEndpoint } from "../endpoint.js";
import { checkClassCount, classify } from "./classification.js";
import { TEXT_INPUT, type DecodedInput, type InferCall } from "./infer-request.js";
import { badRequest, ProtocolError } from "./protocol-error.js";

export { TEXT_INPUT };

export interface InferOutcome {
  modelName: string;
  id: string | undefined;
  evidence: ModelEvidence;
  /** The tensors to return, each with whether it goes back as binary. */
  outputs: { tensor: OutputTensor; binary: boolean }[];
  /** Seconds spent tokenizing text (undefined for token inputs), and each row's tokens without padding. */
  input: { tokenizeSeconds: number | undefined; rowTokens: number[] };
}

/**
 * Runs one infer call: checks the inputs against the serving version (names, datatypes, shapes,
 * batch and sequence limits) before anything is queued, tokenizes text, and picks the outputs.
 */
export async function runInfer(endpoint: ModelEndpoint, call: InferCall, requestedVersion: string | undefined): Promise<InferOutcome> {
  const model = endpoint.current();
  if (requestedVersion !== undefined && requestedVersion !== model.version) {
    throw new ProtocolError(
      "not_found",
      `model "${endpoint.agent}" has no version "${requestedVersion}" being served (serving "${model.version}")`,
    );
  }
  const wanted = selectOutputs(model, call);
  const tokenizeStarted = process.hrtime.bigint();
  const tokens = tokensFor(model, call);
  const isText = call.inputs.some((input) => input.name === TEXT_INPUT);
  const tokenizeSeconds = isText ? Number(process.hrtime.bigint() - tokenizeStarted) / 1e9 : undefined;
  let result: InferResult;
  try {
    result = await endpoint.infer({ tokens, outputs: wanted.map((output) => output.name) });
  } catch (err) {
    throw runtimeFailure(endpoint.agent, err);
  }
  const byName = new Map(result.outputs.map((tensor) => [tensor.name, tensor]));
  const outputs = wanted.map(({ name, binary, classCount }) => {
    const tensor = byName.get(name);
    if (tensor === undefined) throw new ProtocolError("internal", `model "${endpoint.agent}" returned no output "${name}"`);
    return { tensor: classCount === undefined ? tensor : classify(tensor, classCount, model.labels), binary };
  });
  const input = { tokenizeSeconds, rowTokens: rowLengths(tokens) };
  return { modelName: endpoint.agent, id: call.id, evidence: result.evidence, outputs, input };
}

function rowLengths(tokens: TokenRows): number[] {
  return Array.from({ length: tokens.rows }, (_, row) => {
    let length = 0;
    for (let t = 0; t < tokens.seqLen; t += 1) if (tokens.attentionMask[row * tokens.seqLen + t] !== 0n) length += 1;
    return length;
  });
}

function selectOutputs(model: ServedModel, call: InferCall): { name: string; binary: boolean; classCount?: number }[] {
  const known = model.outputs.map((output) => output.name);
  if (call.outputs === undefined) return known.map((name) => ({ name, binary: call.binaryByDefault }));
  if (call.outputs.length === 0) throw badRequest(`"outputs" is empty: name at least one of ${known.join(", ")}, or leave it out for all`);
  const seen = new Set<string>();
  for (const output of call.outputs) {
    if (!known.includes(output.name))
      throw badRequest(`model "${model.agent}" has no output "${output.name}"; its outputs are ${known.join(", ")}`);
    if (seen.has(output.name)) throw badRequest(`output "${output.name}" is requested twice`);
    seen.add(output.name);
  }
  return call.outputs.map(({ name, binary, classCount }) =>
    classCount === undefined ? { name, binary } : { name, binary, classCount: checkClassCount(model, name, classCount) },
  );
}

function tokensFor(model: ServedModel, call: InferCall): TokenRows {
  const names = call.inputs.map((input) => input.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw badRequest(`input "${duplicate}" is given twice`);
  const text = call.inputs.find((input) => input.name === TEXT_INPUT);
  if (text !== undefined) {
    if (call.inputs.length > 1) throw badRequest(`send either "${TEXT_INPUT}" or token inputs (${TOKEN_INPUTS.join(", ")}), not both`);
    return tokenizeText(model, text, call.truncate);
  }
  const unknown = call.inputs.find((input) => !isTokenInput(input.name));
  if (unknown !== undefined) {
    throw badRequest(
      `model "${model.agent}" has no input "${unknown.name}"; send "${TEXT_INPUT}" (BYTES) or ${model.inputs.map((input) => input.name).join(", ")} (INT64 or INT32)`,
    );
  }
  return tokenInputs(model, call.inputs);
}

function checkRows(model: ServedModel, input: DecodedInput, rows: number): void {
  if (rows === 0) throw badRequest(`input "${input.name}" has an empty batch (shape [${input.shape.join(", ")}])`);
  if (rows > model.limits.maxBatch) {
    throw badRequest(
      `input "${input.name}" has ${rows} rows but model "${model.agent}" takes at most ${model.limits.maxBatch} per request; split the request`,
    );
  }
}

function tokenizeText(model: ServedModel, input: DecodedInput, truncate: boolean): TokenRows {
  if (input.datatype !== "BYTES" || input.data.kind !== "bytes")
    throw badRequest(`input "${TEXT_INPUT}" must be BYTES, got ${input.datatype}`);
  const shapeOk = input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
  if (!shapeOk) throw badRequest(`input "${TEXT_INPUT}" must have shape [rows] or [rows, 1], got [${input.shape.join(", ")}]`);
  checkRows(model, input, input.shape[0] ?? 0);
  try {
    // Bytes before tokens, whatever the model's tokenize does: a huge text costs O(limit), not O(text).
    return model.tokenize(boundTextBytes(input.data.values, maxTextBytes(model.limits), truncate), { truncate });
  } catch (err) {
    if (isForgeError(err) && err.code === "TEXT_TOO_LONG") {
      throw badRequest(`${err.message}; set the request parameter "truncate": true to cut texts at ${model.limits.maxSeq} tokens`);
    }
    throw err;
  }
}

/** Every value of a token input within [low, high), else a 400 naming the input, the element and the range. */
function checkRange(model: ServedModel, input: DecodedInput, low: bigint, high: bigint | undefined, what: string): void {
  if (input.data.kind !== "int") return;
  const { values } = input.data;
  const seqLen = input.shape[1] ?? 1;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    if (value >= low && (high === undefined || value < high)) continue;
    const where = `element ${index} (row ${Math.floor(index / seqLen)}, token ${index % seqLen})`;
    const range = high === undefined ? `${low} or more` : `${low} to ${high - 1n}`;
    throw badRequest(`input "${input.name}" ${where} is ${value}; model "${model.agent}" takes ${what} of ${range}`);
  }
}

function tokenInputs(model: ServedModel, inputs: DecodedInput[]): TokenRows {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const ids = byName.get("input_ids");
  if (ids === undefined) throw badRequest(`token inputs need "input_ids" (or send "${TEXT_INPUT}" as BYTES)`);
  const takesTypeIds = model.inputs.some((input) => input.name === "token_type_ids");
  if (!takesTypeIds && byName.has("token_type_ids")) throw badRequest(`model "${model.agent}" takes no "token_type_ids"`);
  for (const input of inputs) {
    if (input.data.kind !== "int") throw badRequest(`input "${input.name}" must be INT64 or INT32, got ${input.datatype}`);
    if (input.shape.length !== 2) throw badRequest(`input "${input.name}" must have shape [rows, tokens], got [${input.shape.join(", ")}]`);
    if (input.shape[0] !== ids.shape[0] || input.shape[1] !== ids.shape[1]) {
      throw badRequest(
        `input "${input.name}" has shape [${input.shape.join(", ")}] but input_ids has [${ids.shape.join(", ")}]; they must agree`,
      );
    }
  }
  const [rows = 0, seqLen = 0] = ids.shape;
  checkRows(model, ids, rows);
  const vocab = model.vocabSize === undefined ? undefined : BigInt(model.vocabSize);
  checkRange(model, ids, 0n, vocab, "token ids (its vocabulary)");
  const mask = byName.get("attention_mask");
  if (mask !== undefined) checkRange(model, mask, 0n, 2n, "attention mask values (1 for a token, 0 for padding)");
  const types = byName.get("token_type_ids");
  if (types !== undefined) {
    const typeVocab = model.typeVocabSize === undefined ? undefined : BigInt(model.typeVocabSize);
    checkRange(model, types, 0n, typeVocab, "token type ids (segment numbers)");
  }
  const { minSeq, maxSeq } = model.limits;
  if (seqLen < minSeq || seqLen > maxSeq) {
    throw badRequest(`input "input_ids" has ${seqLen} tokens per row; model "${model.agent}" takes ${minSeq} to ${maxSeq}`);
  }
  const values = (name: string): BigInt64Array | undefined => {
    const data = byName.get(name)?.data;
    return data?.kind === "int" ? data.values : undefined;
  };
  const attentionMask = values("attention_mask") ?? new BigInt64Array(rows * seqLen).fill(1n);
  const tokenTypeIds = takesTypeIds ? (values("token_type_ids") ?? new BigInt64Array(rows * seqLen)) : undefined;
  return {
    rows,
    seqLen,
    inputIds: values("input_ids") ?? new BigInt64Array(0),
    attentionMask,
    ...(tokenTypeIds === undefined ? {} : { tokenTypeIds }),
  };
}

/** The runtime's errors as protocol failures: a full queue or a disposed version is "try again". */
function runtimeFailure(agent: string, err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const code = isForgeError(err) ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "OVERLOADED":
      return new ProtocolError("overloaded", `model "${agent}" is overloaded: ${message}; retry later`, { cause: err });
    case "MODEL_CLOSED":
      return new ProtocolError("shutting_down", `model "${agent}" is shutting down: ${message}`, { cause: err });
    case "ENGINE_DISPOSED":
      return new ProtocolError("not_ready", `model "${agent}" is not serving: ${message}`, { cause: err });
    case "TEXT_TOO_LONG":
    case "BATCH_TOO_LARGE":
    case "INPUT_MISMATCH":
      return new ProtocolError("bad_request", message, { cause: err });
    default:
      return new ProtocolError("internal", `model "${agent}" failed: ${message}`, { cause: err });
  }
}
