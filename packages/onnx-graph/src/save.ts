import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ForgeError, fsError, fsyncDirectory, isForgeError } from "@trtforge/core";
import { pointToExternalData, usesExternalData } from "./external-data.js";
import { cloneModel, type OnnxModel } from "./model.js";
import { encodeModelProto } from "./schema.js";
import { tensorPayloadBytes, tensorRawBytes } from "./tensor-data.js";
import { forEachTensor } from "./walk-tensors.js";

/** Protobuf cannot encode or parse one message above 2 GiB - 1. */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;
/** Room left for the graph itself when deciding from the tensor bytes alone. */
const GRAPH_HEADROOM_BYTES = 64 * 2 ** 20;
/** Initializers of at least this many bytes go to the data file (onnx's own default threshold). */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1024;
/** Page-aligned offsets let readers memory-map a tensor straight from the data file. */
export const EXTERNAL_DATA_ALIGNMENT = 4096;

export type ExternalDataMode = "auto" | "always" | "never";

export interface SaveOnnxOptions {
  /**
   * auto (default): external data only when the model would not fit one protobuf (2 GiB);
   * always: initializers of 1 KiB and more go to `<name>.onnx.data`; never: one file or an error.
   */
  externalData?: ExternalDataMode;
}

export interface SavedOnnxModel {
  onnxPath: string;
  /** Set when tensors were written to an external data file. */
  dataPath?: string;
}

function payloadBytes(model: OnnxModel): number {
  let total = 0;
  forEachTensor(model.proto, (tensor) => {
    total += tensorPayloadBytes(tensor);
  });
  return total;
}

function tooLarge(bytes: number): ForgeError {
  return new ForgeError(
    "INVALID_ARGUMENT",
    `the ONNX model takes ${(bytes / 2 ** 30).toFixed(2)} GiB, more than one protobuf message can hold (2 GiB)`,
    {
      fix: 'write it with saveOnnxModel(model, path, { externalData: "auto" }) and hand the file path, not bytes, to the consumer',
    },
  );
}

function refuseUnresolvedExternalData(model: OnnxModel): void {
  forEachTensor(model.proto, (tensor) => {
    if (usesExternalData(tensor)) {
      throw new ForgeError("INVALID_ARGUMENT", `tensor ${tensor.name} still refers to external data that is not in memory`, {
        fix: "load the model with loadOnnxModel, which reads external data, before saving or serializing it",
      });
    }
  });
}

function encodeWithinLimit(model: OnnxModel): Uint8Array {
  const payload = payloadBytes(model);
  if (payload > PROTOBUF_LIMIT_BYTES) throw tooLarge(payload);
  const bytes = encodeModelProto(model.proto);
  if (bytes.length > PROTOBUF_LIMIT_BYTES) throw tooLarge(bytes.length);
  return bytes;
}

/**
 * The model as one protobuf, e.g. for onnxruntime-node's InferenceSession.create(bytes). A model
 * above 2 GiB cannot be one protobuf: that is an error pointing to saveOnnxModel with external data.
 */
export function serializeOnnxModel(model: OnnxModel): Uint8Array {
  refuseUnresolvedExternalData(model);
  return encodeWithinLimit(model);
}

function alignUp(offset: number): number {
  return Math.ceil(offset / EXTERNAL_DATA_ALIGNMENT) * EXTERNAL_DATA_ALIGNMENT;
}

interface ExternalLayout {
  /** The model whose large initializers point into the data file. */
  model: OnnxModel;
  placements: { bytes: Uint8Array; offset: number }[];
}

function layoutExternalData(model: OnnxModel, location: string): ExternalLayout {
  const copy = cloneModel(model);
  const placements: ExternalLayout["placements"] = [];
  let end = 0;
  forEachTensor(copy.proto, (tensor, role) => {
    if (role !== "initializer") return;
    const bytes = tensorRawBytes(tensor);
    if (bytes === undefined || bytes.length < EXTERNAL_DATA_THRESHOLD_BYTES) return;
    const offset = alignUp(end);
    placements.push({ bytes, offset });
    pointToExternalData(tensor, location, offset, bytes.length);
    end = offset + bytes.length;
  });
  return { model: copy, placements };
}

function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

async function writeNewFile(path: string, chunks: readonly { bytes: Uint8Array; offset: number }[]): Promise<void> {
  const handle = await open(path, "wx", 0o664);
  try {
    for (const { bytes, offset } of chunks) {
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, offset + written);
        written += bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the files under temporary names, then renames them into place; the data file first, so
 * that a reader never pairs the new .onnx with an old data file.
 */
async function publish(files: readonly { path: string; chunks: { bytes: Uint8Array; offset: number }[] }[]): Promise<void> {
  const staged = files.map((file) => ({ ...file, temp: tempSibling(file.path) }));
  let current = files[0]!.path;
  try {
    for (const file of staged) {
      current = file.path;
      await writeNewFile(file.temp, file.chunks);
    }
    for (const file of staged) {
      current = file.path;
      await rename(file.temp, file.path);
    }
    await fsyncDirectory(dirname(current));
  } catch (err) {
    await Promise.all(staged.map((file) => rm(file.temp, { force: true })));
    throw isForgeError(err) ? err : fsError(err, current, "writing ONNX model");
  }
}

/**
 * Saves the model at `path`. With external data, initializers of 1 KiB and more are written to
 * `<path>.data` (named by its base name in the model, at 4 KiB-aligned offsets) and the .onnx keeps
 * the rest. Both files are written atomically. A data file left from an earlier save is not removed
 * when this save needs none; the .onnx written now no longer refers to it.
 */
export async function saveOnnxModel(model: OnnxModel, path: string, options: SaveOnnxOptions = {}): Promise<SavedOnnxModel> {
  const mode = options.externalData ?? "auto";
  if (mode !== "auto" && mode !== "always" && mode !== "never") {
    throw new ForgeError("INVALID_ARGUMENT", `externalData must be "auto", "always" or "never", not ${JSON.stringify(mode)}`);
  }
  refuseUnresolvedExternalData(model);
  if (mode === "never" || (mode === "auto" && payloadBytes(model) <= PROTOBUF_LIMIT_BYTES - GRAPH_HEADROOM_BYTES)) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeWithinLimit(model);
    } catch (err) {
      if (mode === "never" && isForgeError(err)) {
        throw new ForgeError("INVALID_ARGUMENT", `${err.message}; externalData "never" cannot save it`, {
          input: path,
          fix: 'save with externalData "auto" or "always"',
          cause: err,
        });
      }
      if (!isForgeError(err)) throw err;
    }
    if (bytes !== undefined) {
      await publish([{ path, chunks: [{ bytes, offset: 0 }] }]);
      return { onnxPath: path };
    }
  }
  const dataPath = `${path}.data`;
  const layout = layoutExternalData(model, basename(dataPath));
  const onnxBytes = encodeWithinLimit(layout.model);
  await publish([
    { path: dataPath, chunks: layout.placements },
    { path, chunks: [{ bytes: onnxBytes, offset: 0 }] },
  ]);
  return { onnxPath: path, dataPath };
}
