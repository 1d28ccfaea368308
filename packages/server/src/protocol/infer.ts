import { isForgeError } from "@trtforge/core";
import {
  admit,
  isTokenInput,
  TOKEN_INPUTS,
  type AdmissionInput,
  type AdmittedBatch,
  type InferResult,
  type ModelEvidence,
  type ModelLease,
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
  /** Every output the run returned, before any classification extension (all the model's with allOutputs). */
  all: OutputTensor[];
}

export interface RunInferOptions {
  /** Run every output of the model whatever the call asks for (a shadow compares them); the reply still carries only those asked. */
  allOutputs?: boolean;
}

/**
 * Runs one infer call: borrows the serving version once, checks the call's protocol form (names,
 * datatypes, shapes), has the runtime admit it against that version (rows, limits, tokenization,
 * outputs) and runs it there; the version is released once the outputs are back, so a hot swap
 * never runs one version's tokens on another.
 */
export async function runInfer(
  endpoint: ModelEndpoint,
  call: InferCall,
  requestedVersion: string | undefined,
  options: RunInferOptions = {},
): Promise<InferOutcome> {
  const lease = endpoint.acquire();
  try {
    const { model } = lease;
    if (requestedVersion !== undefined && requestedVersion !== model.version) {
      throw new ProtocolError(
        "not_found",
        `model "${endpoint.agent}" has no version "${requestedVersion}" being served (serving "${model.version}")`,
      );
    }
    const wanted = selectOutputs(model, call);
    const tokenizeStarted = process.hrtime.bigint();
    const admitted = admitCall(lease, call, options.allOutputs === true ? {} : { outputs: wanted.map((output) => output.name) });
    const isText = call.inputs.some((input) => input.name === TEXT_INPUT);
    const tokenizeSeconds = isText ? Number(process.hrtime.bigint() - tokenizeStarted) / 1e9 : undefined;
    let result: InferResult;
    try {
      result = await endpoint.infer(admitted);
    } catch (err) {
      throw runtimeFailure(endpoint.agent, err);
    }
    const byName = new Map(result.outputs.map((tensor) => [tensor.name, tensor]));
    const outputs = wanted.map(({ name, binary, classCount }) => {
      const tensor = byName.get(name);
      if (tensor === undefined) throw new ProtocolError("internal", `model "${endpoint.agent}" returned no output "${name}"`);
      return { tensor: classCount === undefined ? tensor : classify(tensor, classCount, model.labels), binary };
    });
    const input = { tokenizeSeconds, rowTokens: rowLengths(admitted.tokens) };
    return { modelName: endpoint.agent, id: call.id, evidence: result.evidence, outputs, input, all: result.outputs };
  } finally {
    // The batcher released it with its answer; this covers a call refused before it got there.
    lease.release();
  }
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
    if (seen.has(output.name)) throw badRequest(`output "${output.name}" is requested twice`);
    seen.add(output.name);
  }
  return call.outputs.map(({ name, binary, classCount }) =>
    classCount === undefined ? { name, binary } : { name, binary, classCount: checkClassCount(model, name, classCount) },
  );
}

/** The call's inputs in protocol form checked, then admitted by the runtime against the leased version. */
function admitCall(lease: ModelLease, call: InferCall, wanted: { outputs?: readonly string[] }): AdmittedBatch {
  const input = admissionInput(lease.model, call);
  try {
    return admit(lease, { ...input, ...wanted });
  } catch (err) {
    if (isForgeError(err) && err.code === "TEXT_TOO_LONG" && "texts" in input) {
      throw badRequest(
        `${err.message}; set the request parameter "truncate": true to cut texts at ${lease.model.profile.sequence.max} tokens`,
      );
    }
    if (isForgeError(err) && (err.code === "TEXT_TOO_LONG" || err.code === "BATCH_TOO_LARGE" || err.code === "INPUT_MISMATCH")) {
      throw badRequest(err.message);
    }
    throw err;
  }
}

function admissionInput(model: ServedModel, call: InferCall): AdmissionInput {
  const names = call.inputs.map((input) => input.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw badRequest(`input "${duplicate}" is given twice`);
  const text = call.inputs.find((input) => input.name === TEXT_INPUT);
  if (text !== undefined) {
    if (call.inputs.length > 1) throw badRequest(`send either "${TEXT_INPUT}" or token inputs (${TOKEN_INPUTS.join(", ")}), not both`);
    return { texts: textValues(text), truncate: call.truncate };
  }
  const unknown = call.inputs.find((input) => !isTokenInput(input.name));
  if (unknown !== undefined) {
    throw badRequest(
      `model "${model.agent}" has no input "${unknown.name}"; send "${TEXT_INPUT}" (BYTES) or ${model.inputs.map((input) => input.name).join(", ")} (INT64 or INT32)`,
    );
  }
  return { tokens: tokenInputs(model, call.inputs) };
}

function textValues(input: DecodedInput): string[] {
  if (input.datatype !== "BYTES" || input.data.kind !== "bytes")
    throw badRequest(`input "${TEXT_INPUT}" must be BYTES, got ${input.datatype}`);
  const shapeOk = input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
  if (!shapeOk) throw badRequest(`input "${TEXT_INPUT}" must have shape [rows] or [rows, 1], got [${input.shape.join(", ")}]`);
  return input.data.values;
}

/** Token inputs as rows: shapes must agree; a missing mask is all ones, missing type ids zeros where the model takes them. */
function tokenInputs(model: ServedModel, inputs: DecodedInput[]): TokenRows {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const ids = byName.get("input_ids");
  if (ids === undefined) throw badRequest(`token inputs need "input_ids" (or send "${TEXT_INPUT}" as BYTES)`);
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
  const takesTypeIds = model.inputs.some((input) => input.name === "token_type_ids");
  const values = (name: string): BigInt64Array | undefined => {
    const data = byName.get(name)?.data;
    return data?.kind === "int" ? data.values : undefined;
  };
  const attentionMask = values("attention_mask") ?? new BigInt64Array(rows * seqLen).fill(1n);
  // Type ids sent to a model without them go on to admission, which refuses them by name.
  const tokenTypeIds = values("token_type_ids") ?? (takesTypeIds ? new BigInt64Array(rows * seqLen) : undefined);
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
