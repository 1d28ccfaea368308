import { isJsonObject } from "./tokenizer-files.js";

/**
 * Pre-tokenizer settings that @huggingface/tokenizers 0.2.0 accepts but applies differently from
 * the Rust tokenizers library (checked against tokenizers 0.23): its Punctuation always groups a
 * run of punctuation ("Contiguous"), and its Split honours only "Isolated" delimiters, or with
 * `invert` only "Removed". Such a tokenizer is refused rather than served with different ids.
 */
export function unsupportedPreTokenizerSettings(preTokenizer: unknown): string[] {
  if (!isJsonObject(preTokenizer)) return [];
  switch (preTokenizer.type) {
    case "Sequence":
      return Array.isArray(preTokenizer.pretokenizers) ? preTokenizer.pretokenizers.flatMap(unsupportedPreTokenizerSettings) : [];
    case "Punctuation": {
      // The Rust default when the field is absent is Isolated.
      const behavior = preTokenizer.behavior ?? "Isolated";
      return behavior === "Contiguous" ? [] : [`Punctuation pre-tokenizer with behavior ${String(behavior)}`];
    }
    case "Split": {
      const invert = preTokenizer.invert === true;
      const supported = invert ? "Removed" : "Isolated";
      return preTokenizer.behavior === supported
        ? []
        : [`Split pre-tokenizer with behavior ${String(preTokenizer.behavior)}${invert ? " and invert" : ""}`];
    }
    default:
      return [];
  }
}
