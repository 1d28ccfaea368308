import { z } from "zod";
import { PRECISIONS } from "./precision.js";
import { TRT_VERSION_PATTERN } from "./trt-version.js";

/**
 * Marker engines stand in for real engines where TensorRT is absent (CI). The file starts with a
 * PNG-style magic: a non-ASCII first byte (so no text tool calls it text), a name, CR LF (caught by
 * line-ending conversions), SUB and LF. A TensorRT plan starts with "ftrt", so the first byte
 * already tells them apart. After the magic comes one JSON object, then a newline.
 */
export const MARKER_MAGIC = Buffer.from([0x89, ...Buffer.from("TRTFORGE-MARKER", "ascii"), 0x0d, 0x0a, 0x1a, 0x0a]);
export const MARKER_FORMAT_VERSION = 1;
/** Markers are tiny; anything larger is not one of ours. */
export const MARKER_MAX_BYTES = 64 * 1024;

export const MarkerBodySchema = z.strictObject({
  marker_format: z.literal(MARKER_FORMAT_VERSION),
  warning: z.string(),
  task: z.string(),
  model_id: z.string(),
  hf_revision: z.string(),
  trt_version: z.string().regex(TRT_VERSION_PATTERN),
  precision: z.enum(PRECISIONS),
  created_at: z.string(),
});
export type MarkerBody = z.infer<typeof MarkerBodySchema>;

export const MARKER_WARNING =
  "This is a trtforge marker, not a TensorRT engine: it was written where TensorRT is absent and can never be loaded.";

export function encodeMarker(body: Omit<MarkerBody, "marker_format" | "warning">): Buffer {
  const full: MarkerBody = { marker_format: MARKER_FORMAT_VERSION, warning: MARKER_WARNING, ...body };
  return Buffer.concat([MARKER_MAGIC, Buffer.from(`${JSON.stringify(full)}\n`, "utf8")]);
}

export function hasMarkerMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MARKER_MAGIC.length && Buffer.from(bytes.subarray(0, MARKER_MAGIC.length)).equals(MARKER_MAGIC);
}

export type MarkerDecoding = { ok: true; body: MarkerBody } | { ok: false; reason: string };

export function decodeMarker(bytes: Uint8Array): MarkerDecoding {
  if (!hasMarkerMagic(bytes)) return { ok: false, reason: "no marker magic" };
  const text = Buffer.from(bytes.subarray(MARKER_MAGIC.length)).toString("utf8");
  if (!text.endsWith("\n")) return { ok: false, reason: "marker body is cut short (no final newline)" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `marker body is not JSON: ${(err as Error).message}` };
  }
  const parsed = MarkerBodySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `marker body is invalid: ${z.prettifyError(parsed.error)}` };
  return { ok: true, body: parsed.data };
}

/** JustNewsAgent's markers: three text lines starting with this. Recognized only to refuse them. */
export const LEGACY_MARKER_PREFIX = "Marker TensorRT engine for ";
