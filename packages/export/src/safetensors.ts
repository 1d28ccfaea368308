import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ForgeError, fsError } from "@trtforge/core";

/**
 * A reader for the safetensors format (8-byte little-endian header length, a JSON header of
 * {name: {dtype, shape, data_offsets}}, then the raw bytes), as the Python exporter writes its
 * reference inputs and outputs. The format is a fixed, documented layout; reading it takes a
 * few lines, writing it is left to the Python `safetensors` package.
 */
const HeaderEntrySchema = z.object({
  dtype: z.enum(["F32", "I64", "F16", "I32"]),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export type NamedTensor =
  | { name: string; dtype: "float32"; shape: number[]; data: Float32Array }
  | { name: string; dtype: "int64"; shape: number[]; data: BigInt64Array };

export async function readSafetensors(path: string): Promise<Map<string, NamedTensor>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "reading reference tensors");
  }
  const bad = (why: string) =>
    new ForgeError("EXPORT_PROTOCOL", `${path} is not a valid safetensors file: ${why}`, { input: path, fix: "export the model again" });
  if (bytes.length < 8) throw bad("shorter than its header");
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) throw bad("header runs past the end");
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const entry = HeaderEntrySchema.safeParse(raw);
    if (!entry.success) throw bad(`tensor ${name}: ${z.prettifyError(entry.error)}`);
    const {
      dtype,
      shape,
      data_offsets: [start, end],
    } = entry.data;
    const count = shape.reduce((a, b) => a * b, 1);
    const width = dtype === "I64" ? 8 : dtype === "F32" || dtype === "I32" ? 4 : 2;
    if (end - start !== count * width || base + end > bytes.length) throw bad(`tensor ${name}: size does not match its shape`);
    // Copy into an aligned buffer: offsets in the file need not be aligned for typed arrays.
    const slice = new Uint8Array(bytes.subarray(base + start, base + end)).buffer;
    if (dtype === "F32") tensors.set(name, { name, dtype: "float32", shape, data: new Float32Array(slice) });
    else if (dtype === "I64") tensors.set(name, { name, dtype: "int64", shape, data: new BigInt64Array(slice) });
    else throw bad(`tensor ${name}: dtype ${dtype} is not used by the exporter`);
  }
  return tensors;
}
