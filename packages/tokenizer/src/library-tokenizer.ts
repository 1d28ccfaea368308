import { Tokenizer } from "@huggingface/tokenizers";
import { ForgeError } from "@trtforge/core";

/**
 * The part of @huggingface/tokenizers' Tokenizer used here. Its published declarations use
 * extensionless relative imports, which NodeNext resolution cannot follow, so everything beyond
 * the class itself arrives as `any`; this interface restores the types at the boundary.
 */
export interface LibraryTokenizer {
  encode(
    text: string,
    options: { add_special_tokens: boolean; return_token_type_ids?: boolean },
  ): { ids: number[]; token_type_ids?: number[] };
  token_to_id(token: string): number | undefined;
  /** The normalizer built from tokenizer.json, patched in place by applyRustParityFixes. */
  normalizer: unknown;
}

export const SUPPORTED_TOKENIZERS_FIX =
  "use a model whose tokenizer.json uses WordPiece, BPE or Unigram with the standard normalizers and pre-tokenizers";

/** Builds the library's tokenizer; its errors (an unknown model or normalizer type) become TOKENIZER_INVALID. */
export function buildLibraryTokenizer(tokenizerJson: object, tokenizerConfig: object, path: string): LibraryTokenizer {
  try {
    return new Tokenizer(tokenizerJson, tokenizerConfig) as LibraryTokenizer;
  } catch (err) {
    throw new ForgeError("TOKENIZER_INVALID", `${path} describes a tokenizer that cannot be run: ${(err as Error).message}`, {
      input: path,
      fix: SUPPORTED_TOKENIZERS_FIX,
      cause: err,
    });
  }
}
