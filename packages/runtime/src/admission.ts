import { ForgeError } from "@trtforge/core";
import type { ServedModel, TokenRows } from "./contract.js";
import { boundTextBytes, maxTextBytes } from "./text-bytes.js";

/** A model borrowed from admission to reply; release() once the request is answered (hot swap drains on it). */
export interface ModelLease {
  readonly model: ServedModel;
  release(): void;
}

/** Where requests get their model: a fixed one, or a ModelSlot that swaps versions. */
export interface ModelProvider {
  /** The model serving now, to read (metadata, configuration); a request borrows it with acquire(). */
  readonly current: ServedModel;
  acquire(): ModelLease;
}

/** A provider that always lends the same model (tests, single-version embeddings). */
export function fixedProvider(model: ServedModel): ModelProvider {
  return { current: model, acquire: () => ({ model, release: () => {} }) };
}

/** What a request asks of a model: texts to tokenize, or token rows already made by the client. */
export type AdmissionInput =
  { texts: readonly string[]; truncate: boolean; outputs?: readonly string[] } | { tokens: TokenRows; outputs?: readonly string[] };

/**
 * A request admitted against one version: rows within its profile, tokens made by (or checked
 * against) that version, outputs it has, and a lease on it until release(). Only admit() makes
 * one (the constructor is private), so the batcher and the backends run it without checking again,
 * and always on `model`, the version that tokenized it.
 */
export class AdmittedBatch {
  readonly #lease: ModelLease;
  #released = false;

  private constructor(
    lease: ModelLease,
    readonly tokens: TokenRows,
    readonly outputs: readonly string[] | undefined,
  ) {
    this.#lease = lease;
  }

  /** The version that tokenized these rows and must run them. */
  get model(): ServedModel {
    return this.#lease.model;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Ends the lease on the version; idempotent. The batcher calls it when it answers the request. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#lease.release();
  }

  /** @internal admit()'s way in. */
  static of(lease: ModelLease, tokens: TokenRows, outputs: readonly string[] | undefined): AdmittedBatch {
    return new AdmittedBatch(lease, tokens, outputs);
  }
}

function isLease(from: ModelLease | ModelProvider | ServedModel): from is ModelLease {
  return "model" in from && typeof (from as ModelLease).release === "function";
}

function isProvider(from: ModelLease | ModelProvider | ServedModel): from is ModelProvider {
  return typeof (from as ModelProvider).acquire === "function";
}

/**
 * The one admission of a request: takes a lease on a version (or uses the one given), checks the
 * rows against that version's profile (1..batch.max rows, sequence.min..sequence.max tokens, token values within
 * its vocabularies), tokenizes text with that version's tokenizer, checks the outputs asked for,
 * and returns the admitted batch holding the lease. On any refusal the lease is released and a
 * ForgeError (INPUT_MISMATCH, BATCH_TOO_LARGE, TEXT_TOO_LONG) names the input and the fix.
 */
export function admit(from: ModelLease | ModelProvider | ServedModel, input: AdmissionInput): AdmittedBatch {
  const lease = isLease(from) ? from : isProvider(from) ? from.acquire() : fixedProvider(from).acquire();
  try {
    const { model } = lease;
    const outputs = input.outputs === undefined ? undefined : checkOutputs(model, input.outputs);
    const tokens = "texts" in input ? admitTexts(model, input.texts, input.truncate) : admitTokens(model, input.tokens);
    return AdmittedBatch.of(lease, tokens, outputs);
  } catch (err) {
    lease.release();
    throw err;
  }
}

function checkRowCount(model: ServedModel, rows: number, input: string): void {
  if (rows < 1) {
    throw new ForgeError("INPUT_MISMATCH", `input "${input}" has an empty batch: a request needs at least one row`, {
      input,
      fix: "send at least one row",
    });
  }
  const maxBatch = model.profile.batch.max;
  if (rows > maxBatch) {
    throw new ForgeError(
      "BATCH_TOO_LARGE",
      `input "${input}" has ${rows} rows but model "${model.agent}" takes at most ${maxBatch} per request; split the request`,
      { input, fix: `split it into requests of at most ${maxBatch} rows`, details: { rows, maxBatch } },
    );
  }
}

function admitTexts(model: ServedModel, texts: readonly string[], truncate: boolean): TokenRows {
  checkRowCount(model, texts.length, "text");
  // Bytes before tokens, whatever the model's tokenize does: a huge text costs O(limit), not O(text).
  return model.tokenize(boundTextBytes(texts, maxTextBytes(model.profile), truncate), { truncate });
}

function admitTokens(model: ServedModel, tokens: TokenRows): TokenRows {
  checkRowCount(model, tokens.rows, "input_ids");
  const { min: minSeq, max: maxSeq } = model.profile.sequence;
  if (tokens.seqLen < minSeq || tokens.seqLen > maxSeq) {
    throw new ForgeError(
      "TEXT_TOO_LONG",
      `input "input_ids" has ${tokens.seqLen} tokens per row; model "${model.agent}" takes ${minSeq} to ${maxSeq}`,
      { input: "input_ids", fix: `send rows of ${minSeq} to ${maxSeq} tokens` },
    );
  }
  const size = tokens.rows * tokens.seqLen;
  const arrays: [string, BigInt64Array | undefined][] = [
    ["input_ids", tokens.inputIds],
    ["attention_mask", tokens.attentionMask],
    ["token_type_ids", tokens.tokenTypeIds],
  ];
  for (const [name, values] of arrays) {
    if (values !== undefined && values.length !== size) {
      throw new ForgeError("INPUT_MISMATCH", `input "${name}" has ${values.length} values, not ${tokens.rows} rows × ${tokens.seqLen}`, {
        input: name,
        fix: "send input_ids, attention_mask (and token_type_ids) of the same [rows, tokens] shape",
      });
    }
  }
  if (tokens.tokenTypeIds !== undefined && !model.inputs.some((spec) => spec.name === "token_type_ids")) {
    throw new ForgeError("INPUT_MISMATCH", `model "${model.agent}" takes no "token_type_ids"`, {
      input: "token_type_ids",
      fix: "leave token_type_ids out",
    });
  }
  checkRange(model, "input_ids", tokens, tokens.inputIds, 0n, bound(model.vocabSize), "token ids (its vocabulary)");
  checkRange(model, "attention_mask", tokens, tokens.attentionMask, 0n, 2n, "attention mask values (1 for a token, 0 for padding)");
  if (tokens.tokenTypeIds !== undefined) {
    checkRange(model, "token_type_ids", tokens, tokens.tokenTypeIds, 0n, bound(model.typeVocabSize), "token type ids (segment numbers)");
  }
  return tokens;
}

function bound(size: number | undefined): bigint | undefined {
  return size === undefined ? undefined : BigInt(size);
}

/** Every value within [low, high), else INPUT_MISMATCH naming the input, the element and the range. */
function checkRange(
  model: ServedModel,
  name: string,
  tokens: TokenRows,
  values: BigInt64Array,
  low: bigint,
  high: bigint | undefined,
  what: string,
): void {
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    if (value >= low && (high === undefined || value < high)) continue;
    const where = `element ${index} (row ${Math.floor(index / tokens.seqLen)}, token ${index % tokens.seqLen})`;
    const range = high === undefined ? `${low} or more` : `${low} to ${high - 1n}`;
    throw new ForgeError("INPUT_MISMATCH", `input "${name}" ${where} is ${value}; model "${model.agent}" takes ${what} of ${range}`, {
      input: name,
      fix: `send ${what} of ${range}`,
    });
  }
}

function checkOutputs(model: ServedModel, wanted: readonly string[]): readonly string[] {
  const known = model.outputs.map((spec) => spec.name);
  const unknown = wanted.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new ForgeError("INPUT_MISMATCH", `model "${model.agent}" has no output "${unknown}"; its outputs are ${known.join(", ")}`, {
      input: unknown,
      fix: "ask for outputs listed in the model metadata, or for none to get them all",
    });
  }
  return wanted;
}
