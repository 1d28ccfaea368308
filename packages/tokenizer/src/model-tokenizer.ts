/** The tensors a Hugging Face text model takes, by the names its ONNX export gives them. */
export type ModelInputName = "input_ids" | "token_type_ids" | "attention_mask";

export interface EncodeOptions {
  /** With truncation, the longest row (special tokens included); with "max_length" padding, every row's length. */
  maxLength: number;
  /** "longest": pad to the longest row of this batch; "max_length": pad every row to maxLength. */
  padding: "longest" | "max_length";
  truncation: boolean;
}

/** One batch, each array row-major [batchSize, seqLen], int64 because ONNX text models take int64. */
export interface EncodedBatch {
  batchSize: number;
  seqLen: number;
  inputIds: BigInt64Array;
  /** 1 on tokens, 0 on padding. */
  attentionMask: BigInt64Array;
  /** Present when the model takes token_type_ids (see ModelTokenizer.inputNames); 0 on padding. */
  tokenTypeIds?: BigInt64Array;
}

export interface ModelTokenizer {
  readonly modelDir: string;
  /** The inputs the tokenizer produces for the model, in Hugging Face's order. */
  readonly inputNames: readonly ModelInputName[];
  /** Undefined when the tokenizer has no pad token (GPT-2 style); such a tokenizer cannot pad. */
  readonly padTokenId: number | undefined;
  /** tokenizer_config.json's model_max_length; undefined when it is absent or Hugging Face's "no limit" sentinel. */
  readonly modelMaxLength: number | undefined;
  /** Token ids as the Hugging Face fast tokenizer gives them, right-truncated and right-padded. */
  encodeBatch(texts: readonly string[], options: EncodeOptions): EncodedBatch;
}
