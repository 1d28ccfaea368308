import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CALIBRATION_SCHEMA_VERSION,
  loadCalibration,
  parseTrtCache,
  readCalibration,
  saveCalibration,
  trtCacheOfRecord,
  type CalibrationRecord,
} from "../src/index.js";
import { rejection } from "../../../tests/support/errors.js";

const ONNX = "a".repeat(64);
const DATA = "b".repeat(64);

function record(overrides: Partial<CalibrationRecord> = {}): CalibrationRecord {
  return {
    schema_version: CALIBRATION_SCHEMA_VERSION,
    onnx_sha256: ONNX,
    dataset_sha256: DATA,
    dataset: "/data/ag_news/test.csv",
    algorithm: "percentile",
    percentile: 99.99,
    trt_cache_algorithm: "EntropyCalibration2",
    tensor_scope: "all-float",
    samples: 512,
    seed: 0,
    batch_size: 32,
    rows_per_run: 8,
    sample_stride: 31,
    seq_len: 128,
    bins: 2048,
    trt_version: "10.16.0",
    scales: { layer_norm: 7.16 / 127, val_85: 1 / 127 },
    skipped: [{ tensor: "val_129", reason: "every finite value is 0 (10 mask fill(s) and 0 NaN kept out)" }],
    excluded_values: [{ tensor: "val_129", fills: 10, nan: 0, counted: 20 }],
    seconds: 12.5,
    peak_rss_bytes: 1_600_000_000,
    onnxruntime_node: "1.30.0",
    created_at: "2026-11-28T17:00:00.000Z",
    ...overrides,
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-calibration-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe("calibration.json", () => {
  it("round-trips and yields the scales in order", async () => {
    const path = join(dir, "calibration.json");
    await saveCalibration(path, record());
    const { record: loaded, scales } = await loadCalibration(path, { onnxSha256: ONNX, datasetSha256: DATA });
    expect(loaded).toEqual(record());
    expect([...scales]).toEqual([
      ["layer_norm", 7.16 / 127],
      ["val_85", 1 / 127],
    ]);
  });

  it("reads a record written before sampling existed as stride 1 (every value)", async () => {
    const path = join(dir, "calibration.json");
    const { sample_stride: _, ...older } = record();
    await writeFile(path, JSON.stringify(older));
    expect((await readCalibration(path)).sample_stride).toBe(1);
  });

  it("refuses a calibration made for other weights, naming both hashes and the fix", async () => {
    const path = join(dir, "calibration.json");
    await saveCalibration(path, record());
    const other = "c".repeat(64);
    const err = await rejection(loadCalibration(path, { onnxSha256: other, datasetSha256: DATA }));
    expect(err.code).toBe("CALIBRATION_STALE");
    expect(err.message).toContain(`ONNX model sha256 ${other}, but the calibration was made for ${ONNX}`);
    expect(err.message).not.toContain("dataset sha256");
    expect(err.fix).toMatch(/calibrate again/);
  });

  it("refuses a calibration made on other data", async () => {
    const path = join(dir, "calibration.json");
    await saveCalibration(path, record());
    const other = "d".repeat(64);
    const err = await rejection(loadCalibration(path, { onnxSha256: ONNX, datasetSha256: other }));
    expect(err.code).toBe("CALIBRATION_STALE");
    expect(err.message).toContain(`dataset sha256 ${other}, but the calibration was made for ${DATA}`);
    expect(err.message).not.toContain("ONNX model sha256");
  });

  it("names both when both differ", async () => {
    const path = join(dir, "calibration.json");
    await saveCalibration(path, record());
    const err = await rejection(loadCalibration(path, { onnxSha256: "e".repeat(64), datasetSha256: "f".repeat(64) }));
    expect(err.message).toMatch(/ONNX model sha256 e+, .*; dataset sha256 f+, /);
  });

  it("refuses a damaged or foreign file", async () => {
    const path = join(dir, "calibration.json");
    await writeFile(path, "{not json");
    expect((await rejection(readCalibration(path))).code).toBe("JSON_MALFORMED");
    await writeFile(path, JSON.stringify({ ...record(), scales: { a: -1 } }));
    const err = await rejection(readCalibration(path));
    expect(err.code).toBe("CALIBRATION_CACHE_INVALID");
    expect(err.message).toContain("scales");
    await writeFile(path, JSON.stringify({ ...record(), schema_version: 2 }));
    expect((await rejection(readCalibration(path))).code).toBe("CALIBRATION_CACHE_INVALID");
    expect((await rejection(readCalibration(join(dir, "absent.json")))).code).toBe("FILE_NOT_FOUND");
  });

  it("writes its TensorRT cache with the recorded version and label", async () => {
    const text = trtCacheOfRecord(record());
    expect(text).toBe("TRT-101600-EntropyCalibration2\nlayer_norm: 3d66ec91\nval_85: 3c010204\n");
    const parsed = parseTrtCache(text);
    expect(parsed.scales.get("val_85")).toBe(Math.fround(1 / 127));
    // The file on disk is what TensorRT reads: plain ASCII.
    await writeFile(join(dir, "calibration.cache"), text);
    expect(await readFile(join(dir, "calibration.cache"), "latin1")).toBe(text);
  });
});
