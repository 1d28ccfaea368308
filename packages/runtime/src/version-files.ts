import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ForgeError, sha256File } from "@trtforge/core";
import { CPU_SERVING_ONNX, CPU_SERVING_RECORD, SERVING_FILES_DIR } from "@trtforge/engine-format";
import type { VerifiedVersion } from "./store-version.js";

/** The engine (or marker) of a version and its v1 sidecar, as the pipeline publishes them. */
export interface EngineFiles {
  engine: string;
  sidecar: string;
}

/**
 * Which file of a version is its engine: the one the manifest names (`metadata.engine`, written by
 * the pipeline), else the only `*.engine` file; undefined when neither says. The server's GPU plan
 * and the worker that loads the version both decide with this.
 */
export function engineFileOf(files: readonly string[], manifestMetadata: Record<string, unknown>): string | undefined {
  const named = typeof manifestMetadata.engine === "string" ? manifestMetadata.engine : undefined;
  if (named !== undefined && files.includes(named)) return named;
  const engines = files.filter((f) => f.endsWith(".engine"));
  return engines.length === 1 ? engines[0] : undefined;
}

/** The engine (engineFileOf) and its sidecar; MODEL_UNSERVABLE when the version has none to serve. */
export function findEngine(version: VerifiedVersion): EngineFiles {
  const engine = engineFileOf(version.files, version.metadata);
  if (engine === undefined) {
    const engines = version.files.filter((f) => f.endsWith(".engine"));
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `version "${version.version}" of agent "${version.agent}" has ${engines.length === 0 ? "no engine" : `${engines.length} engines and its manifest names none of them`}; the runtime takes its limits and identity from the engine metadata`,
      { input: version.path, fix: "serve a version published by build-engine (it publishes the engine or marker with its .json metadata)" },
    );
  }
  return { engine, sidecar: engine.replace(/\.engine$/, ".json") };
}

/** The tokenizer folder: `tokenizer/` when the version has one, else the version root. */
export function tokenizerDir(version: VerifiedVersion): string {
  if (version.files.includes(`${SERVING_FILES_DIR}/tokenizer.json`)) return join(version.path, SERVING_FILES_DIR);
  if (version.files.includes("tokenizer.json")) return version.path;
  throw new ForgeError(
    "MODEL_UNSERVABLE",
    `version "${version.version}" of agent "${version.agent}" has no tokenizer.json (looked in tokenizer/ and at the top)`,
    {
      input: version.path,
      fix: "republish the model with its tokenizer files (tokenizer.json, tokenizer_config.json, special_tokens_map.json, config.json) under tokenizer/",
    },
  );
}

/** config.json beside the tokenizer (id2label, problem_type), or undefined when the version has none. */
export function modelConfigPath(version: VerifiedVersion): string | undefined {
  if (version.files.includes(`${SERVING_FILES_DIR}/config.json`)) return join(version.path, SERVING_FILES_DIR, "config.json");
  if (version.files.includes("config.json")) return join(version.path, "config.json");
  return undefined;
}

/** The sha256 of a file of the version: the manifest's (verified at open), else hashed now. */
export async function fileSha256(version: VerifiedVersion, file: string): Promise<string> {
  return version.fileSha256.get(file) ?? sha256File(join(version.path, file));
}

/** The fields of build-engine's cpu-serving.json the runtime reads. */
const CpuServingRecordSchema = z.looseObject({
  file: z.string().optional(),
  precision: z.string().optional(),
  quantization: z.string().optional(),
});

/**
 * The CPU-serving ONNX of the version: the file `cpu-serving.json` names (its `file`), else
 * `model.cpu.onnx` when present. The evidence's precision is
 * `cpu-<the record's precision>` (e.g. cpu-int8), or cpu-optimized when the record says none.
 * A record whose quantization is dynamic (activation scales computed per run over the whole batch)
 * makes the rows of a batch depend on each other: rowsIndependent false.
 */
export async function cpuServingOnnx(
  version: VerifiedVersion,
): Promise<{ file: string; precision: string; rowsIndependent: boolean } | undefined> {
  if (version.files.includes(CPU_SERVING_RECORD)) {
    const path = join(version.path, CPU_SERVING_RECORD);
    let parsed: z.infer<typeof CpuServingRecordSchema> | undefined;
    try {
      parsed = CpuServingRecordSchema.parse(JSON.parse(await readFile(path, "utf8")));
    } catch (err) {
      throw new ForgeError("MODEL_UNSERVABLE", `${path} is not a readable CPU-serving record: ${(err as Error).message}`, {
        input: path,
        fix: 'republish the version, or pass onnxVariant "fp32" or "int8" to serve another ONNX',
        cause: err,
      });
    }
    const named = parsed.file !== undefined && parsed.file.endsWith(".onnx") ? parsed.file : undefined;
    const precision = `cpu-${parsed.precision ?? "optimized"}`;
    const rowsIndependent = !(parsed.quantization ?? "").startsWith("dynamic");
    if (named !== undefined && version.files.includes(named)) return { file: named, precision, rowsIndependent };
    if (version.files.includes(CPU_SERVING_ONNX)) return { file: CPU_SERVING_ONNX, precision, rowsIndependent };
    return undefined;
  }
  // Without a record nothing says how it was quantized: assume the pipeline's default form, dynamic int8.
  return version.files.includes(CPU_SERVING_ONNX)
    ? { file: CPU_SERVING_ONNX, precision: "cpu-optimized", rowsIndependent: false }
    : undefined;
}
