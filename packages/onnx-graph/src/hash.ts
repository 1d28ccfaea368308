import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsError } from "@trtforge/core";
import { externalDataLocations } from "./external-data.js";
import { decodeOnnxModel } from "./load.js";

/**
 * SHA-256 (hex) identifying an ONNX model as stored: the bytes of the .onnx file, followed by the
 * bytes of each external data file it references (each file whole and once, in the order of
 * first reference: main graph initializers, node attributes and subgraphs, training graphs,
 * functions). A model without external data hashes exactly like `sha256sum model.onnx`; a data
 * file lying next to the model that the model does not reference does not count.
 */
export async function onnxSha256(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "hashing ONNX model");
  }
  const hash = createHash("sha256").update(bytes);
  for (const location of externalDataLocations(decodeOnnxModel(bytes, path).proto)) {
    const dataPath = join(dirname(path), location);
    try {
      for await (const chunk of createReadStream(dataPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (err) {
      throw fsError(err, dataPath, "hashing ONNX external data");
    }
  }
  return hash.digest("hex");
}
