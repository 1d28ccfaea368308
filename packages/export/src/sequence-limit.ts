import { ForgeError } from "@trtforge/core";
import { readModelConfig, readOptionalJson, type ModelConfig } from "./model-config.js";

/** One bound on the sequence length and the file and fields it came from. */
export interface LengthBound {
  value: number;
  source: string;
}

export interface SequenceLimit {
  /** The longest input the model can take at all: a longer one indexes past its position table. */
  max: LengthBound;
  /**
   * sentence-transformers' max_seq_length: the length the model was trained and is served at.
   * Longer inputs run, but their embeddings were never trained for; it is advice, not a limit.
   */
  recommended?: LengthBound;
}

/**
 * Model types whose learned positions start after the padding index (fairseq's RoBERTa layout):
 * position ids run from padding_idx + 1, so padding_idx + 1 rows of the table are never usable.
 */
const POSITIONS_AFTER_PADDING = new Set([
  "roberta",
  "xlm-roberta",
  "xlm-roberta-xl",
  "camembert",
  "roberta-prelayernorm",
  "data2vec-text",
  "longformer",
  "ibert",
  "mpnet",
]);

function positionBound(config: ModelConfig): LengthBound | undefined {
  const table = config.max_position_embeddings;
  if (table === undefined) return undefined;
  if (config.model_type !== undefined && POSITIONS_AFTER_PADDING.has(config.model_type)) {
    // transformers builds these models' position embeddings with padding_idx = config.pad_token_id.
    const paddingIdx = config.pad_token_id ?? 1;
    return {
      value: table - paddingIdx - 1,
      source: `config.json max_position_embeddings ${table} − padding_idx ${paddingIdx} − 1 (${config.model_type} positions start after the padding index)`,
    };
  }
  return { value: table, source: `config.json max_position_embeddings ${table}` };
}

/** transformers writes int(1e30) when a checkpoint sets no limit: anything not a safe positive integer means none. */
function safeLength(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The usable maximum sequence length of a Hugging Face model folder: the smaller of its position
 * table (RoBERTa-style offsets taken off) and its tokenizer's model_max_length. type_vocab_size
 * bounds token types, not positions, and plays no part. A folder that states neither has no
 * known limit (undefined).
 */
export async function modelSequenceLimit(modelDir: string): Promise<SequenceLimit | undefined> {
  const config = await readModelConfig(modelDir);
  const bounds: LengthBound[] = [];
  const positions = positionBound(config);
  if (positions) bounds.push(positions);
  const tokenizerLength = safeLength((await readOptionalJson(modelDir, "tokenizer_config.json"))?.model_max_length);
  if (tokenizerLength !== undefined)
    bounds.push({ value: tokenizerLength, source: `tokenizer_config.json model_max_length ${tokenizerLength}` });
  const max = bounds.reduce<LengthBound | undefined>((least, b) => (least === undefined || b.value < least.value ? b : least), undefined);
  if (max === undefined) return undefined;
  const sbert = safeLength((await readOptionalJson(modelDir, "sentence_bert_config.json"))?.max_seq_length);
  return sbert === undefined
    ? { max }
    : { max, recommended: { value: sbert, source: `sentence_bert_config.json max_seq_length ${sbert}` } };
}

/**
 * Refuses a sequence length the model cannot take, before any work: past the position table the
 * export still succeeds but every input that long fails in ONNX Runtime (Gather out of range) and
 * in TensorRT.
 */
export function assertSequenceLength(requested: number, limit: SequenceLimit | undefined, input: string, modelDir: string): void {
  if (limit === undefined || requested <= limit.max.value) return;
  throw new ForgeError(
    "SEQUENCE_TOO_LONG",
    `${input} ${requested} is longer than ${modelDir} can take: at most ${limit.max.value} tokens (${limit.max.source})`,
    {
      input,
      fix: `pass ${input} ${limit.max.value} or less${limit.recommended ? ` (the model was trained at ${limit.recommended.value}: ${limit.recommended.source})` : ""}`,
      details: { limit: limit.max.value, source: limit.max.source, ...(limit.recommended ? { recommended: limit.recommended.value } : {}) },
    },
  );
}
