import { ForgeError } from "@trtforge/core";
import type { LibraryTokenizer } from "./library-tokenizer.js";

/**
 * What the post-processor puts around one text: the special tokens before and after it and the
 * type ids of each part. Truncation cuts only the text between them, as the Rust library does.
 */
export interface SingleSequenceTemplate {
  prefixIds: number[];
  prefixTypeIds: number[];
  contentTypeId: number;
  suffixIds: number[];
  suffixTypeIds: number[];
}

export function specialTokenCount(template: SingleSequenceTemplate): number {
  return template.prefixIds.length + template.suffixIds.length;
}

/** Where `needle` occurs in `haystack`: every start index. */
function occurrences(haystack: readonly number[], needle: readonly number[]): number[] {
  const starts: number[] = [];
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((id, i) => haystack[start + i] === id)) starts.push(start);
  }
  return starts;
}

/**
 * Reads the template off the library itself: a probe text encoded with and without special
 * tokens, the difference being what the post-processor adds. This follows whatever post-processor
 * tokenizer.json names (Template, Bert, Roberta, ByteLevel, Sequence) without reimplementing it.
 */
export function singleSequenceTemplate(tokenizer: LibraryTokenizer, tokenizerJsonPath: string): SingleSequenceTemplate {
  const probe = "a";
  const content = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const full = tokenizer.encode(probe, { add_special_tokens: true, return_token_type_ids: true });
  const typeIds = full.token_type_ids ?? full.ids.map(() => 0);
  const starts = occurrences(full.ids, content);
  const start = starts[0];
  if (content.length === 0 || starts.length !== 1 || start === undefined) {
    throw new ForgeError(
      "TOKENIZER_INVALID",
      `${tokenizerJsonPath}: the post-processor does not keep a text whole between its special tokens`,
      {
        input: tokenizerJsonPath,
        fix: "use a tokenizer whose post-processor is TemplateProcessing, BertProcessing, RobertaProcessing or ByteLevel",
        details: { probe, content, full: full.ids },
      },
    );
  }
  const end = start + content.length;
  return {
    prefixIds: full.ids.slice(0, start),
    prefixTypeIds: typeIds.slice(0, start),
    contentTypeId: typeIds[start] ?? 0,
    suffixIds: full.ids.slice(end),
    suffixTypeIds: typeIds.slice(end),
  };
}
