import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError, fsError, parseJsonText } from "@trtforge/core";

export type JsonObject = Record<string, unknown>;

/** The files of a model folder that describe its tokenizer, parsed. */
export interface TokenizerFiles {
  tokenizerJsonPath: string;
  /** tokenizer.json: the whole pipeline (normalizer, pre-tokenizer, model, post-processor). */
  tokenizer: JsonObject;
  /** tokenizer_config.json, or {} when absent. */
  config: JsonObject;
  /** special_tokens_map.json, or {} when absent. */
  specialTokensMap: JsonObject;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readJsonObject(path: string, required: boolean): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsError(err, path, "reading the tokenizer");
  }
  const value = parseJsonText(text, path, "restore the file from the model's original files");
  if (!isJsonObject(value)) {
    throw new ForgeError("TOKENIZER_INVALID", `${path} must hold a JSON object`, {
      input: path,
      fix: "restore the file from the model's original files",
    });
  }
  return value;
}

/**
 * Reads tokenizer.json (required: only the fast tokenizer's single-file format can be read
 * without Python) and the two optional files that name the special tokens and limits.
 */
export async function readTokenizerFiles(modelDir: string): Promise<TokenizerFiles> {
  // A mistyped folder is told apart from a folder without tokenizer.json: the fixes differ.
  try {
    await stat(modelDir);
  } catch (err) {
    throw fsError(err, modelDir, "reading the tokenizer");
  }
  const tokenizerJsonPath = join(modelDir, "tokenizer.json");
  let tokenizer: JsonObject | undefined;
  try {
    tokenizer = await readJsonObject(tokenizerJsonPath, true);
  } catch (err) {
    if (err instanceof ForgeError && err.code === "FILE_NOT_FOUND") {
      throw new ForgeError(
        "TOKENIZER_INVALID",
        `${modelDir} has no tokenizer.json, the only tokenizer format trtforge reads without Python`,
        {
          input: tokenizerJsonPath,
          fix:
            'save the fast tokenizer into the model folder: python -c "from transformers import AutoTokenizer; ' +
            `AutoTokenizer.from_pretrained('${modelDir}').save_pretrained('${modelDir}')" (a model with only vocab.txt or a sentencepiece file is converted on the way)`,
          cause: err,
        },
      );
    }
    throw err;
  }
  return {
    tokenizerJsonPath,
    tokenizer: tokenizer ?? {},
    config: (await readJsonObject(join(modelDir, "tokenizer_config.json"), false)) ?? {},
    specialTokensMap: (await readJsonObject(join(modelDir, "special_tokens_map.json"), false)) ?? {},
  };
}
