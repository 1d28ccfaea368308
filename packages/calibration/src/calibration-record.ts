import { readFile } from "node:fs/promises";
import { ForgeError, fsError, parseJsonText, SHA256_HEX, writeFileAtomic } from "@trtforge/core";
import { z } from "zod";
import { CALIBRATION_ALGORITHMS } from "./amax.js";
import { TENSOR_SCOPES } from "./calibration-tensors.js";
import { TRT_CACHE_ALGORITHMS, writeTrtCache } from "./trt-cache.js";

export const CALIBRATION_SCHEMA_VERSION = 1;

const Sha256 = z.string().regex(SHA256_HEX, "a lowercase hex sha256");
const PositiveInt = z.number().int().positive();
const Scale = z.number().positive().finite();

/** calibration.json: the scales and what they were computed from, keyed on the ONNX and the data. */
export const CalibrationRecordSchema = z.object({
  schema_version: z.literal(CALIBRATION_SCHEMA_VERSION),
  onnx_sha256: Sha256,
  dataset_sha256: Sha256,
  /** Where the articles came from (informative; the hash is the key). */
  dataset: z.string(),
  /** Malformed rows of the article source, skipped (count and the first few origins). Older records lack it. */
  bad_rows: z
    .object({ count: z.number().int().nonnegative(), examples: z.array(z.object({ origin: z.string(), reason: z.string() })) })
    .optional(),
  algorithm: z.enum(CALIBRATION_ALGORITHMS),
  percentile: z.number().gt(0).lte(100).optional(),
  /** The algorithm name the TensorRT cache's header carries (percentile has none of its own). */
  trt_cache_algorithm: z.enum(TRT_CACHE_ALGORITHMS),
  tensor_scope: z.enum(TENSOR_SCOPES),
  samples: PositiveInt,
  seed: z.number().int(),
  batch_size: PositiveInt,
  /** Rows per ONNX Runtime run inside a batch (memory bound; no effect on the scales). */
  rows_per_run: PositiveInt,
  /** The longest length calibrated at (the only one without `lengths`). */
  seq_len: PositiveInt,
  /** The sequence lengths calibrated at, rows of real tokens joined up to each; absent: every article padded to seq_len. */
  lengths: z.array(PositiveInt).optional(),
  /** Per length: rows run and each fetched tensor's largest |x| there, so that a range only long inputs reach shows. Older records lack it. */
  length_bands: z
    .array(z.object({ seq_len: PositiveInt, rows: z.number().int().nonnegative(), amax: z.record(z.string(), z.number().nonnegative()) }))
    .optional(),
  bins: PositiveInt,
  /** Every n-th value of each activation went into its histogram (1: all); maxima are over every value. Records from before sampling lack it: 1. */
  sample_stride: PositiveInt.default(1),
  trt_version: z.string().regex(/^\d+\.\d+(\.\d+)*$/),
  /** Tensor → scale (amax / 127), in graph order. */
  scales: z.record(z.string(), Scale),
  /** Tensors without a scale, and why; TensorRT keeps their layers out of int8. */
  skipped: z.array(z.object({ tensor: z.string(), reason: z.string() })),
  /** Tensors some of whose values were kept out of the histogram (mask fills, NaN), with counts. */
  excluded_values: z.array(
    z.object({
      tensor: z.string(),
      fills: z.number().int().nonnegative(),
      nan: z.number().int().nonnegative(),
      counted: z.number().int().nonnegative(),
    }),
  ),
  seconds: z.number().nonnegative(),
  peak_rss_bytes: z.number().int().nonnegative(),
  onnxruntime_node: z.string(),
  created_at: z.string(),
});

export type CalibrationRecord = z.infer<typeof CalibrationRecordSchema>;

export interface CalibrationKeys {
  onnxSha256: string;
  datasetSha256: string;
}

export function scalesOf(record: CalibrationRecord): Map<string, number> {
  return new Map(Object.entries(record.scales));
}

/** The TensorRT calibration cache text for a record (header from its TensorRT version and label). */
export function trtCacheOfRecord(record: CalibrationRecord): string {
  return writeTrtCache(scalesOf(record), { trtVersion: record.trt_version, algorithm: record.trt_cache_algorithm });
}

export async function saveCalibration(path: string, record: CalibrationRecord): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(CalibrationRecordSchema.parse(record), null, 2)}\n`);
}

/** Reads calibration.json and checks its form, without checking its keys. */
export async function readCalibration(path: string): Promise<CalibrationRecord> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fsError(err, path, "reading calibration");
  }
  const json = parseJsonText(text, path, "calibrate again; the file is damaged");
  const parsed = CalibrationRecordSchema.safeParse(json);
  if (!parsed.success) {
    throw new ForgeError(
      "CALIBRATION_CACHE_INVALID",
      `${path} is not a trtforge calibration.json (schema ${CALIBRATION_SCHEMA_VERSION}): ${z.prettifyError(parsed.error)}`,
      {
        input: path,
        fix: "calibrate again with this version of trtforge",
      },
    );
  }
  return parsed.data;
}

/**
 * Reads calibration.json and refuses it when it was made for other weights or other data: each
 * differing hash is named with both values. Returns the record and its scales for insertQdq.
 */
export async function loadCalibration(
  path: string,
  keys: CalibrationKeys,
): Promise<{ record: CalibrationRecord; scales: Map<string, number> }> {
  const record = await readCalibration(path);
  const differences: string[] = [];
  if (record.onnx_sha256 !== keys.onnxSha256)
    differences.push(`ONNX model sha256 ${keys.onnxSha256}, but the calibration was made for ${record.onnx_sha256}`);
  if (record.dataset_sha256 !== keys.datasetSha256)
    differences.push(`dataset sha256 ${keys.datasetSha256}, but the calibration was made for ${record.dataset_sha256}`);
  if (differences.length > 0) {
    throw new ForgeError("CALIBRATION_STALE", `${path} is stale: ${differences.join("; ")}`, {
      input: path,
      fix: "calibrate again on this ONNX model and these articles (a calibration is only valid for the weights and data it was computed from)",
      details: {
        expected: { onnx_sha256: keys.onnxSha256, dataset_sha256: keys.datasetSha256 },
        found: { onnx_sha256: record.onnx_sha256, dataset_sha256: record.dataset_sha256 },
      },
    });
  }
  return { record, scales: scalesOf(record) };
}
