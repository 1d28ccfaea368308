import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ForgeError, fsError, parseJsonText } from "@trtforge/core";

/**
 * The fields of a Hugging Face config.json that decide what shapes an export may take and how its
 * classifier head is read. Everything else in the file is kept but not interpreted.
 */
export const ModelConfigSchema = z.looseObject({
  model_type: z.string().optional(),
  max_position_embeddings: z.number().int().positive().optional(),
  pad_token_id: z.number().int().min(0).nullable().optional(),
  problem_type: z.enum(["regression", "single_label_classification", "multi_label_classification"]).nullable().optional(),
  num_labels: z.number().int().positive().optional(),
  id2label: z.record(z.string(), z.string()).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fsError(err, path, `reading the model's ${what}`);
  }
  return parseJsonText(text, path, `restore the model's ${what} from its source`);
}

/** The model folder's config.json, checked for the fields trtforge reads. */
export async function readModelConfig(modelDir: string): Promise<ModelConfig> {
  const path = join(modelDir, "config.json");
  const parsed = ModelConfigSchema.safeParse(await readJsonFile(path, "config.json"));
  if (!parsed.success) {
    throw new ForgeError("CONFIG_INVALID", `${path} is not a usable Hugging Face config: ${z.prettifyError(parsed.error)}`, {
      input: path,
      fix: "restore config.json from the model's source",
    });
  }
  return parsed.data;
}

/** A JSON file of the model folder that may be absent (tokenizer_config.json, sentence_bert_config.json). */
export async function readOptionalJson(modelDir: string, name: string): Promise<Record<string, unknown> | undefined> {
  const path = join(modelDir, name);
  let value: unknown;
  try {
    value = await readJsonFile(path, name);
  } catch (err) {
    if (err instanceof ForgeError && err.code === "FILE_NOT_FOUND") return undefined;
    throw err;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
