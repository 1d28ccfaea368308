import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError } from "@trtforge/core";
import { isErrno, storeReadError } from "./store-errors.js";

const TOKENIZER_VOCABULARIES = ["tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model"];
const TOKENIZER_EXTRAS = ["tokenizer_config.json", "special_tokens_map.json", "merges.txt", "added_tokens.json"];
const SHARD_INDEXES = ["model.safetensors.index.json", "pytorch_model.bin.index.json"];
/** *.bin files that are not weights. */
const NOT_WEIGHTS = new Set(["training_args.bin", "optimizer.bin", "scheduler.bin", "rng_state.bin"]);

export interface HfModelSummary {
  folder: string;
  modelType?: string;
  architectures?: string[];
  weightFiles: string[];
  tokenizerFiles: string[];
}

function notAModel(folder: string, missing: string[]): ForgeError {
  return new ForgeError("STORE_NOT_A_MODEL", `${folder} is not a Hugging Face model folder: ${missing.join("; ")}`, {
    input: folder,
    fix: "pass the folder that holds config.json, the weights (*.safetensors or pytorch_model*.bin) and the tokenizer files, e.g. a snapshot of `huggingface-cli download` or save_pretrained() output",
    details: { missing },
  });
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw storeReadError(err, path, "reading");
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return "is not a JSON object";
    return value as Record<string, unknown>;
  } catch (err) {
    return `is not JSON (${(err as Error).message})`;
  }
}

/**
 * Checks that a folder holds a loadable Hugging Face model: config.json (a JSON object), weights,
 * every shard a shard index names, and a tokenizer vocabulary. Names every missing piece at once.
 */
export async function inspectHfModelFolder(folder: string): Promise<HfModelSummary> {
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (err) {
    if (isErrno(err, "ENOTDIR"))
      throw new ForgeError("NOT_A_DIRECTORY", `${folder} is a file; --model takes a model folder`, {
        input: folder,
        fix: "pass the folder that holds config.json",
      });
    throw storeReadError(err, folder, "reading the model folder");
  }
  const present = new Set(names);
  const missing: string[] = [];
  let config: Record<string, unknown> | undefined;
  if (!present.has("config.json")) missing.push("config.json is missing");
  else {
    const parsed = await readJsonObject(join(folder, "config.json"));
    if (typeof parsed === "string") missing.push(`config.json ${parsed}`);
    else config = parsed;
  }
  const weightFiles = names.filter((n) => n.endsWith(".safetensors") || (n.endsWith(".bin") && !NOT_WEIGHTS.has(n))).sort();
  if (weightFiles.length === 0) missing.push("no weights (*.safetensors or pytorch_model*.bin)");
  for (const index of SHARD_INDEXES.filter((n) => present.has(n))) {
    const parsed = await readJsonObject(join(folder, index));
    const weightMap = typeof parsed === "string" ? undefined : parsed.weight_map;
    if (weightMap === null || typeof weightMap !== "object") {
      missing.push(`${index} has no weight_map`);
      continue;
    }
    const shards = [...new Set(Object.values(weightMap as Record<string, unknown>).filter((v): v is string => typeof v === "string"))];
    const absent = shards.filter((s) => !present.has(s));
    if (absent.length > 0) missing.push(`shards named by ${index} are missing: ${absent.join(", ")}`);
  }
  const tokenizerFiles = names.filter((n) => TOKENIZER_VOCABULARIES.includes(n) || TOKENIZER_EXTRAS.includes(n)).sort();
  if (!names.some((n) => TOKENIZER_VOCABULARIES.includes(n)))
    missing.push(`no tokenizer vocabulary (one of ${TOKENIZER_VOCABULARIES.join(", ")})`);
  if (missing.length > 0) throw notAModel(folder, missing);
  const modelType = config?.model_type;
  const architectures = config?.architectures;
  return {
    folder,
    ...(typeof modelType === "string" ? { modelType } : {}),
    ...(Array.isArray(architectures) ? { architectures: architectures.filter((a): a is string => typeof a === "string") } : {}),
    weightFiles,
    tokenizerFiles,
  };
}
