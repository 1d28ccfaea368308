import { SOURCE_FOLDER_FIX } from "./source-folder-fix.js";
import { resolve } from "node:path";
import { ForgeError } from "@trtforge/core";
import { unsupportedPreTokenizerSettings } from "./library-limits.js";
import { buildLibraryTokenizer, SUPPORTED_TOKENIZERS_FIX } from "./library-tokenizer.js";
import type { EncodeOptions, ModelTokenizer } from "./model-tokenizer.js";
import { packBatch, type PackSettings } from "./pack-batch.js";
import { applyRustParityFixes } from "./rust-parity.js";
import { singleSequenceTemplate } from "./sequence-template.js";
import { readTokenizerFiles } from "./tokenizer-files.js";
import { inputNamesOf, modelMaxLengthOf, padTokenOf } from "./tokenizer-settings.js";

/**
 * Loads a model folder's tokenizer from tokenizer.json (plus tokenizer_config.json and
 * special_tokens_map.json for the pad token, the length limit and the model's inputs). The
 * truncation and padding sections of tokenizer.json are ignored: each encodeBatch call states
 * its own, as a transformers call does.
 */
export async function loadTokenizer(modelDir: string): Promise<ModelTokenizer> {
  const dir = resolve(modelDir);
  const files = await readTokenizerFiles(dir);
  const path = files.tokenizerJsonPath;
  const unsupported = unsupportedPreTokenizerSettings(files.tokenizer.pre_tokenizer);
  if (unsupported.length > 0) {
    throw new ForgeError(
      "TOKENIZER_INVALID",
      `${path} uses ${unsupported.join(", ")}, which the TypeScript tokenizer would not tokenize as Hugging Face does`,
      {
        input: path,
        fix: SUPPORTED_TOKENIZERS_FIX,
      },
    );
  }
  const tokenizer = buildLibraryTokenizer(files.tokenizer, files.config, path);
  applyRustParityFixes(tokenizer.normalizer);

  const padToken = padTokenOf(files);
  const padTokenId = padToken === undefined ? undefined : tokenizer.token_to_id(padToken);
  if (padToken !== undefined && padTokenId === undefined) {
    throw new ForgeError("TOKENIZER_INVALID", `the pad token ${JSON.stringify(padToken)} is not in the vocabulary of ${path}`, {
      input: path,
      fix: `set pad_token in tokenizer_config.json to a token of the vocabulary ${SOURCE_FOLDER_FIX}`,
    });
  }
  const inputNames = inputNamesOf(files, resolve(dir, "tokenizer_config.json"));
  const settings: PackSettings = {
    template: singleSequenceTemplate(tokenizer, path),
    padTokenId,
    withTokenTypeIds: inputNames.includes("token_type_ids"),
  };

  return {
    modelDir: dir,
    inputNames,
    padTokenId,
    modelMaxLength: modelMaxLengthOf(files.config),
    encodeBatch(texts: readonly string[], options: EncodeOptions) {
      const contents = texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).ids);
      return packBatch(contents, options, settings);
    },
  };
}
