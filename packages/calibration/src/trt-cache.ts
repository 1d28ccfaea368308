import { ForgeError } from "@trtforge/core";
import type { CalibrationAlgorithm } from "./amax.js";
import { trtVersionDigits, trtVersionOfDigits } from "./trt-version.js";

/** The algorithm names TensorRT writes in a calibration cache's header. */
export type TrtCacheAlgorithm = "EntropyCalibration2" | "EntropyCalibration" | "MinMaxCalibration" | "LegacyCalibration";

export const TRT_CACHE_ALGORITHMS: readonly TrtCacheAlgorithm[] = [
  "EntropyCalibration2",
  "EntropyCalibration",
  "MinMaxCalibration",
  "LegacyCalibration",
];

/**
 * The header label of every cache we write. A cache only carries scales, which TensorRT applies as
 * they are; the label must only match the calibrator class that reads the cache (TensorRT ignores a
 * cache whose label differs). Our addon serves caches through an IInt8EntropyCalibrator2, and so
 * does trtexec --calib, so every cache — entropy, max, percentile or MSE — is labelled
 * EntropyCalibration2; calibration.json records the algorithm that chose the scales.
 */
export function trtCacheAlgorithmFor(_algorithm: CalibrationAlgorithm): TrtCacheAlgorithm {
  return "EntropyCalibration2";
}

export interface TrtCache {
  /** "10.16.0", decoded from the header's digits. */
  trtVersion: string;
  /** The header's digits as written ("101600"). */
  versionDigits: string;
  algorithm: TrtCacheAlgorithm;
  /** Tensor name → scale (amax / 127), in file order, each exactly the float32 the file holds. */
  scales: Map<string, number>;
}

/** The 8 lowercase hex digits of a scale as TensorRT writes it: big-endian IEEE-754 float32. */
export function scaleToHex(scale: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatBE(scale, 0);
  return bytes.toString("hex");
}

export function hexToScale(hex: string): number {
  return Buffer.from(hex, "hex").readFloatBE(0);
}

function checkScale(tensor: string, scale: number): void {
  const stored = Math.fround(scale);
  if (!Number.isFinite(stored) || !(stored > 0)) {
    throw new ForgeError("CALIBRATION_CACHE_INVALID", `cannot write the scale of ${tensor}: ${scale} is not a positive finite float32`, {
      input: tensor,
      fix: "leave tensors without a usable range out of the cache (calibrate lists them as skipped)",
    });
  }
}

/**
 * TensorRT's calibration cache text: `TRT-<digits>-<algorithm>` then `<tensor>: <hex scale>` per
 * tensor, newline-terminated, tensors in the order given.
 */
export function writeTrtCache(scales: ReadonlyMap<string, number>, options: { trtVersion: string; algorithm: TrtCacheAlgorithm }): string {
  const lines = [`TRT-${trtVersionDigits(options.trtVersion)}-${options.algorithm}`];
  for (const [tensor, scale] of scales) {
    if (tensor === "" || /[\r\n]/.test(tensor)) {
      throw new ForgeError(
        "CALIBRATION_CACHE_INVALID",
        `tensor name ${JSON.stringify(tensor)} cannot be written in a calibration cache (empty or with a line break)`,
        { input: tensor, fix: "rename the tensor in the ONNX model" },
      );
    }
    checkScale(tensor, scale);
    lines.push(`${tensor}: ${scaleToHex(scale)}`);
  }
  return `${lines.join("\n")}\n`;
}

const HEADER = /^TRT-(\d+)-([A-Za-z0-9]+)$/;
const HEX_SCALE = /^[0-9a-fA-F]{8}$/;

function invalid(source: string, lineNumber: number, line: string, why: string, fix: string): ForgeError {
  const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  return new ForgeError("CALIBRATION_CACHE_INVALID", `${source}:${lineNumber}: ${why}: ${JSON.stringify(shown)}`, {
    input: `${source}:${lineNumber}`,
    fix,
  });
}

/**
 * Reads a TensorRT calibration cache, checking every line: a bad header, a line that is not
 * `<name>: <8 hex digits>`, a repeated name or a scale that is not a positive finite number fails
 * with the line number. The value is taken after the last colon, since tensor names may hold
 * colons (TensorFlow-style `x:0`). Line ends may be \n or \r\n; a trailing empty line is allowed.
 */
export function parseTrtCache(text: string, source = "calibration cache"): TrtCache {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  while (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const headerLine = lines[0] ?? "";
  const header = HEADER.exec(headerLine);
  const headerFix =
    "a TensorRT cache starts with TRT-<version digits>-<EntropyCalibration2|EntropyCalibration|MinMaxCalibration|LegacyCalibration>";
  if (header === null) throw invalid(source, 1, headerLine, "not a TensorRT calibration cache header", headerFix);
  const versionDigits = header[1]!;
  const trtVersion = trtVersionOfDigits(versionDigits);
  if (trtVersion === undefined)
    throw invalid(
      source,
      1,
      headerLine,
      `version digits ${versionDigits} are neither TensorRT 8/9 (4 digits) nor 10+ (6 digits)`,
      headerFix,
    );
  const algorithm = TRT_CACHE_ALGORITHMS.find((a) => a === header[2]);
  if (algorithm === undefined) throw invalid(source, 1, headerLine, `unknown calibration algorithm ${header[2]}`, headerFix);

  const lineFix = "each line after the header must be <tensor name>: <8 hex digits of a big-endian float32 scale>";
  const scales = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.lastIndexOf(":");
    if (colon <= 0) throw invalid(source, i + 1, line, "no `<tensor>: <scale>` pair", lineFix);
    const tensor = line.slice(0, colon);
    const hex = line.slice(colon + 1).trim();
    if (!HEX_SCALE.test(hex)) throw invalid(source, i + 1, line, "the scale is not 8 hex digits", lineFix);
    const scale = hexToScale(hex);
    if (!Number.isFinite(scale) || !(scale > 0))
      throw invalid(source, i + 1, line, `scale ${scale} is not a positive finite number`, lineFix);
    if (scales.has(tensor)) throw invalid(source, i + 1, line, `tensor ${tensor} is listed twice`, "list each tensor once");
    scales.set(tensor, scale);
  }
  return { trtVersion, versionDigits, algorithm, scales };
}
