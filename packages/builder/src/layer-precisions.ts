import { ForgeError } from "@trtforge/core";
import type { Precision } from "@trtforge/engine-format";

/** How many of the engine's layers compute in each precision, from the engine inspector's JSON. */
export interface LayerPrecisionSummary {
  layers: number;
  byPrecision: Record<string, number>;
  /** Layers whose tensors carry no type (the inspector was not at detailed verbosity). */
  unknown: number;
}

type JsonTensor = Record<string, unknown>;

/**
 * The data type of one tensor entry in either inspector shape: TensorRT 10 writes one
 * "Format/Datatype" string ("Row major linear FP16 format"), TensorRT 11 a separate "DataType"
 * ("Half", "Int8", "Float"). Unknown strings are kept as "other", never guessed.
 */
export function tensorPrecision(tensor: JsonTensor): string | undefined {
  const text = [tensor["DataType"], tensor["Format/Datatype"], tensor["Format"]]
    .filter((v): v is string => typeof v === "string")
    .join(" ");
  if (text === "") return undefined;
  if (/\bint8\b/i.test(text)) return "int8";
  if (/\b(fp16|half)\b/i.test(text)) return "fp16";
  if (/\b(bf16|bfloat16)\b/i.test(text)) return "bf16";
  if (/\bfp8\b/i.test(text)) return "fp8";
  if (/\b(fp32|float)\b/i.test(text)) return "fp32";
  if (/\bint(32|64)\b/i.test(text)) return "int";
  return "other";
}

/** A layer runs in the lowest float precision among its inputs (int8 for a fused Q/DQ GEMM). */
const ORDER = ["int8", "fp8", "fp16", "bf16", "fp32", "int", "other"];

export function summarizeLayerPrecisions(inspectorJson: string): LayerPrecisionSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inspectorJson);
  } catch (err) {
    throw new ForgeError("TRT_BUILD_FAILED", `the engine inspector returned invalid JSON: ${(err as Error).message}`, {
      fix: "report this with the TensorRT version",
    });
  }
  const layers = (parsed as { Layers?: unknown }).Layers;
  if (!Array.isArray(layers)) {
    throw new ForgeError("TRT_BUILD_FAILED", "the engine inspector's JSON has no Layers list", {
      fix: "build with detailed profiling verbosity",
    });
  }
  const byPrecision: Record<string, number> = {};
  let unknown = 0;
  for (const layer of layers as Record<string, unknown>[]) {
    const tensors = [...((layer["Inputs"] as JsonTensor[] | undefined) ?? []), ...((layer["Outputs"] as JsonTensor[] | undefined) ?? [])];
    const precisions = tensors.map(tensorPrecision).filter((p): p is string => p !== undefined);
    if (precisions.length === 0) {
      unknown++;
      continue;
    }
    const lowest = precisions.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0]!;
    byPrecision[lowest] = (byPrecision[lowest] ?? 0) + 1;
  }
  return { layers: layers.length, byPrecision, unknown };
}

/**
 * After an int8 or fp16 build, at least one layer must compute in that precision: TensorRT 11
 * upgrades have shipped fp32 engines where fp16 was asked for, silently.
 */
export function assertPrecisionApplied(summary: LayerPrecisionSummary, precision: Precision): void {
  if (precision === "fp32") return;
  if ((summary.byPrecision[precision] ?? 0) > 0) return;
  const seen =
    Object.entries(summary.byPrecision)
      .map(([p, n]) => `${n} ${p}`)
      .join(", ") || "none typed";
  throw new ForgeError(
    "PRECISION_NOT_APPLIED",
    `asked for ${precision}, but no layer of the built engine runs in ${precision} (${summary.layers} layers: ${seen}${summary.unknown ? `, ${summary.unknown} untyped` : ""})`,
    {
      fix:
        precision === "int8"
          ? "check that the Q/DQ ONNX was built (typing strong) or that a calibration cache was given (typing weak, TensorRT 10)"
          : "check that the fp16 ONNX was built (typing strong), or use --typing weak on TensorRT 10",
    },
  );
}
