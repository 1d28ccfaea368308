import { SOURCE_FOLDER_FIX } from "./source-folder-fix.js";
import { ForgeError } from "@trtforge/core";
import type { EncodedBatch, EncodeOptions } from "./model-tokenizer.js";
import { specialTokenCount, type SingleSequenceTemplate } from "./sequence-template.js";

export interface PackSettings {
  template: SingleSequenceTemplate;
  padTokenId: number | undefined;
  withTokenTypeIds: boolean;
}

function checkOptions(options: EncodeOptions, template: SingleSequenceTemplate): void {
  const { maxLength, padding } = options;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new ForgeError("INVALID_LIMIT", `maxLength must be a positive integer, got ${maxLength}`, {
      input: "maxLength",
      fix: "pass a sequence length such as 128",
    });
  }
  if (padding !== "longest" && padding !== "max_length") {
    throw new ForgeError("INVALID_ARGUMENT", `padding must be "longest" or "max_length", got ${JSON.stringify(padding)}`, {
      input: "padding",
      fix: 'pass padding: "longest" or "max_length"',
    });
  }
  const specials = specialTokenCount(template);
  if (options.truncation && maxLength < specials) {
    throw new ForgeError(
      "INVALID_LIMIT",
      `maxLength ${maxLength} leaves no room for the ${specials} special tokens every sequence carries`,
      {
        input: "maxLength",
        fix: `pass maxLength of at least ${specials}`,
      },
    );
  }
}

/**
 * Lays out already tokenized texts (their ids without special tokens) as one batch: each text cut
 * to what maxLength leaves beside the special tokens (Rust's single-sequence truncation, from the
 * right), wrapped in the special tokens, then padded on the right with the pad id, attention 0 and
 * type id 0.
 */
export function packBatch(contents: readonly (readonly number[])[], options: EncodeOptions, settings: PackSettings): EncodedBatch {
  const { template, padTokenId, withTokenTypeIds } = settings;
  checkOptions(options, template);
  const specials = specialTokenCount(template);
  const kept = options.truncation ? contents.map((ids) => ids.slice(0, options.maxLength - specials)) : contents;
  const lengths = kept.map((ids) => ids.length + specials);
  const longest = lengths.reduce((a, b) => Math.max(a, b), 0);
  const seqLen = options.padding === "max_length" ? options.maxLength : longest;
  const tooLong = lengths.findIndex((length) => length > seqLen);
  if (tooLong !== -1) {
    throw new ForgeError(
      "INVALID_LIMIT",
      `text ${tooLong} of the batch has ${lengths[tooLong]} tokens, more than maxLength ${options.maxLength}, and truncation is off`,
      {
        input: "maxLength",
        fix: "turn truncation on, raise maxLength, or pad to the longest text",
      },
    );
  }
  // Refused whatever the lengths, so that whether a batch can be encoded does not depend on its texts.
  if (padTokenId === undefined && (options.padding === "max_length" || kept.length > 1)) {
    throw new ForgeError("TOKENIZER_INVALID", "the tokenizer has no pad token, so texts cannot be padded into a batch", {
      fix: `set pad_token in tokenizer_config.json ${SOURCE_FOLDER_FIX}, or encode one text at a time with padding "longest"`,
    });
  }

  const batchSize = kept.length;
  const inputIds = new BigInt64Array(batchSize * seqLen).fill(BigInt(padTokenId ?? 0));
  const attentionMask = new BigInt64Array(batchSize * seqLen);
  const tokenTypeIds = withTokenTypeIds ? new BigInt64Array(batchSize * seqLen) : undefined;
  kept.forEach((content, row) => {
    let at = row * seqLen;
    const put = (id: number, typeId: number) => {
      inputIds[at] = BigInt(id);
      attentionMask[at] = 1n;
      if (tokenTypeIds !== undefined) tokenTypeIds[at] = BigInt(typeId);
      at++;
    };
    template.prefixIds.forEach((id, i) => put(id, template.prefixTypeIds[i] ?? 0));
    for (const id of content) put(id, template.contentTypeId);
    template.suffixIds.forEach((id, i) => put(id, template.suffixTypeIds[i] ?? 0));
  });
  return { batchSize, seqLen, inputIds, attentionMask, ...(tokenTypeIds === undefined ? {} : { tokenTypeIds }) };
}
