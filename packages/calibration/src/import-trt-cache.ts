import { readFile } from "node:fs/promises";
import { ForgeError, fsError } from "@trtforge/core";
import { floatActivations, loadOnnxModel, onnxSha256, tensorElemTypes } from "@trtforge/onnx-graph";
import { parseTrtCache, type TrtCacheAlgorithm } from "./trt-cache.js";

/**
 * Names TensorRT gives tensors it creates itself, `(Unnamed Layer* 12) [Constant]_output` and the
 * like: they are in real caches and never in the ONNX model.
 */
const TRT_GENERATED_NAME = /^\(Unnamed Layer\* \d+\) \[[^\]]+\]/;

const EXAMPLES = 5;

export interface ImportTrtCacheOptions {
  /** The ONNX model the cache is meant for: its tensors are checked and its hash recorded. */
  onnxPath: string;
  /** When given, the ONNX file must have this sha256 (e.g. from the export report). */
  onnxSha256?: string;
  /**
   * Accept a cache some of whose (non-TensorRT-generated) tensors are not in the model: they are
   * dropped and counted. Off by default, since that means the cache was made for another export.
   */
  allowMissing?: boolean;
}

export interface ImportedTrtCache {
  source: string;
  onnxSha256: string;
  trtVersion: string;
  algorithm: TrtCacheAlgorithm;
  /** Scales of the cache's tensors that are in the model, in cache order: insertQdq's activationScales. */
  scales: Map<string, number>;
  /** TensorRT-generated names (not in any ONNX model), dropped. */
  trtGenerated: string[];
  /** Other names of the cache missing from the model (only with allowMissing), dropped. */
  missing: string[];
  /** Float activations of the model the cache gives no scale for (they stay float in a Q/DQ model). */
  uncovered: string[];
  warnings: string[];
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, EXAMPLES).join(", ");
  return names.length > EXAMPLES ? `${shown}, … (${names.length - EXAMPLES} more)` : shown;
}

/**
 * Reads an existing TensorRT calibration cache (TensorRT 10 implicit INT8) into per-tensor scales
 * for a Q/DQ model, which is how INT8 carries over to TensorRT 11. A cache holds no record of the
 * model it was made for, so it is checked against the ONNX model it is meant for: every tensor it
 * names must exist there (TensorRT's own generated names are dropped with a count). Missing names
 * fail with CALIBRATION_STALE unless allowMissing, which drops and counts them instead.
 */
export async function importTrtCache(path: string, options: ImportTrtCacheOptions): Promise<ImportedTrtCache> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fsError(err, path, "reading TensorRT calibration cache");
  }
  const cache = parseTrtCache(text, path);
  const model = await loadOnnxModel(options.onnxPath);
  const hash = await onnxSha256(options.onnxPath);
  if (options.onnxSha256 !== undefined && options.onnxSha256 !== hash) {
    throw new ForgeError(
      "CALIBRATION_STALE",
      `${options.onnxPath} has sha256 ${hash}, but the cache is to be imported for the model with sha256 ${options.onnxSha256}`,
      {
        input: options.onnxPath,
        fix: "pass the ONNX model the cache is meant for",
      },
    );
  }
  const modelTensors = tensorElemTypes(model);

  const scales = new Map<string, number>();
  const trtGenerated: string[] = [];
  const missing: string[] = [];
  for (const [tensor, scale] of cache.scales) {
    if (modelTensors.has(tensor)) scales.set(tensor, scale);
    else if (TRT_GENERATED_NAME.test(tensor)) trtGenerated.push(tensor);
    else missing.push(tensor);
  }
  if (scales.size === 0) {
    throw new ForgeError(
      "CALIBRATION_STALE",
      `none of the ${cache.scales.size} tensors of ${path} is in ${options.onnxPath}${missing.length > 0 ? ` (e.g. ${listed(missing)})` : ""}`,
      {
        input: path,
        fix: "import the cache against the ONNX model it was calibrated on, or calibrate this model again",
      },
    );
  }
  if (missing.length > 0 && options.allowMissing !== true) {
    throw new ForgeError(
      "CALIBRATION_STALE",
      `${missing.length} of the ${cache.scales.size} tensors of ${path} are not in ${options.onnxPath} (sha256 ${hash}): ${listed(missing)}`,
      {
        input: path,
        fix: "the cache was made for another export of the model: calibrate this ONNX model again, or accept the loss of those scales with allowMissing",
        details: { missing },
      },
    );
  }
  const uncovered = floatActivations(model).filter((t) => !scales.has(t));
  const warnings: string[] = [];
  if (trtGenerated.length > 0) warnings.push(`${trtGenerated.length} TensorRT-generated tensor name(s) dropped: ${listed(trtGenerated)}`);
  if (missing.length > 0)
    warnings.push(`${missing.length} tensor(s) of the cache are not in the model and were dropped: ${listed(missing)}`);
  if (uncovered.length > 0)
    warnings.push(`${uncovered.length} float activation(s) of the model have no scale in the cache and stay float: ${listed(uncovered)}`);
  return {
    source: path,
    onnxSha256: hash,
    trtVersion: cache.trtVersion,
    algorithm: cache.algorithm,
    scales,
    trtGenerated,
    missing,
    uncovered,
    warnings,
  };
}
