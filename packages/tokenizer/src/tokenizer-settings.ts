import { SOURCE_FOLDER_FIX } from "./source-folder-fix.js";
import { ForgeError } from "@trtforge/core";
import type { ModelInputName } from "./model-tokenizer.js";
import { isJsonObject, type JsonObject, type TokenizerFiles } from "./tokenizer-files.js";

const KNOWN_INPUT_NAMES: readonly ModelInputName[] = ["input_ids", "token_type_ids", "attention_mask"];

/** A special token is written either as its text or as an AddedToken object with `content`. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isJsonObject(value) && typeof value.content === "string") return value.content;
  return undefined;
}

/**
 * The pad token's text, looked up where transformers looks: tokenizer_config.json, then
 * special_tokens_map.json, then the padding section of tokenizer.json.
 */
export function padTokenOf(files: TokenizerFiles): string | undefined {
  const padding = files.tokenizer.padding;
  return (
    tokenContent(files.config.pad_token) ??
    tokenContent(files.specialTokensMap.pad_token) ??
    (isJsonObject(padding) ? tokenContent(padding.pad_token) : undefined)
  );
}

/**
 * transformers writes int(1e30) as model_max_length when the checkpoint sets no limit; that and
 * anything that is not a safe positive integer mean "no limit".
 */
export function modelMaxLengthOf(config: JsonObject): number | undefined {
  const value = config.model_max_length;
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * Whether the post-processor marks a second segment with its own type id, the sign of a model with
 * a token type embedding (BERT). RoBERTa and byte-level GPT-style processors give only zeros, and
 * their models take no token_type_ids.
 */
export function postProcessorEmitsTypeIds(postProcessor: unknown): boolean {
  if (!isJsonObject(postProcessor)) return false;
  switch (postProcessor.type) {
    case "BertProcessing":
      return true;
    case "TemplateProcessing": {
      const items = [postProcessor.single, postProcessor.pair].flatMap((t) => (Array.isArray(t) ? (t as unknown[]) : []));
      return items.some((item) => {
        if (!isJsonObject(item)) return false;
        const part = item.SpecialToken ?? item.Sequence;
        return isJsonObject(part) && typeof part.type_id === "number" && part.type_id !== 0;
      });
    }
    case "Sequence":
      return Array.isArray(postProcessor.processors) && postProcessor.processors.some(postProcessorEmitsTypeIds);
    default:
      return false;
  }
}

/**
 * The model's inputs: tokenizer_config.json's model_input_names when the checkpoint states them
 * (transformers does the same), otherwise input_ids and attention_mask, plus token_type_ids when
 * the post-processor emits them.
 */
export function inputNamesOf(files: TokenizerFiles, configPath: string): ModelInputName[] {
  const stated = files.config.model_input_names;
  if (stated === undefined || stated === null) {
    return postProcessorEmitsTypeIds(files.tokenizer.post_processor) ? [...KNOWN_INPUT_NAMES] : ["input_ids", "attention_mask"];
  }
  if (!Array.isArray(stated) || stated.some((name) => typeof name !== "string")) {
    throw new ForgeError("TOKENIZER_INVALID", `${configPath}: model_input_names must be a list of names`, {
      input: configPath,
      fix: `write it as e.g. ["input_ids", "attention_mask"], or remove it, ${SOURCE_FOLDER_FIX}`,
    });
  }
  const unknown = (stated as string[]).filter((name) => !KNOWN_INPUT_NAMES.includes(name as ModelInputName));
  if (unknown.length > 0 || !stated.includes("input_ids")) {
    throw new ForgeError(
      "TOKENIZER_INVALID",
      `${configPath}: model_input_names ${JSON.stringify(stated)} ${unknown.length > 0 ? `names ${unknown.join(", ")}, which a text tokenizer does not produce` : "lacks input_ids"}`,
      { input: configPath, fix: `list only ${KNOWN_INPUT_NAMES.join(", ")} (input_ids required) ${SOURCE_FOLDER_FIX}` },
    );
  }
  return [...new Set(stated as ModelInputName[])];
}
