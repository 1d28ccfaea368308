import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { fsError } from "./errors.js";

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Streams the file so that multi-GB engines and ONNX files never sit in memory whole. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    throw fsError(err, path, "hashing");
  }
  return hash.digest("hex");
}
