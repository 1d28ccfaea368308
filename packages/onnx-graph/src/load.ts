import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ForgeError, fsError } from "@trtforge/core";
import { readExternalData } from "./external-data.js";
import { onnxModel, type OnnxModel } from "./model.js";
import { decodeModelProto } from "./schema.js";

/** Decodes ONNX bytes; `source` names the file in errors. External data is not resolved here. */
export function decodeOnnxModel(bytes: Uint8Array, source = "ONNX bytes"): OnnxModel {
  let proto;
  try {
    proto = decodeModelProto(bytes);
  } catch (err) {
    throw new ForgeError("EXPORT_PROTOCOL", `${source} is not a valid ONNX model: ${(err as Error).message}`, {
      input: source,
      fix: "re-export the model; the file may be truncated or not an ONNX file",
      cause: err,
    });
  }
  if (proto.graph === null || proto.graph === undefined) {
    throw new ForgeError("EXPORT_PROTOCOL", `${source} is not a valid ONNX model: it has no graph`, {
      input: source,
      fix: "re-export the model; the file may not be an ONNX model",
    });
  }
  return onnxModel(proto);
}

/**
 * Loads an .onnx file. Tensors stored as external data are read from their files, relative to
 * the model's folder (with their offset and length), so the returned model is self-contained.
 */
export async function loadOnnxModel(path: string): Promise<OnnxModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "reading ONNX model");
  }
  const model = decodeOnnxModel(bytes, path);
  await readExternalData(model.proto, dirname(path));
  return model;
}
