import { open, type FileHandle } from "node:fs/promises";
import { isAbsolute, join, normalize, sep } from "node:path";
import { ForgeError, fsError } from "@trtforge/core";
import { DataLocation, type ModelProto, type TensorProto } from "./proto-types.js";
import { createEntry } from "./schema.js";
import { withRawData } from "./tensor-data.js";
import { forEachTensor } from "./walk-tensors.js";

export interface ExternalDataRef {
  location: string;
  offset: number;
  /** Undefined: up to the end of the file. */
  length: number | undefined;
}

export function usesExternalData(tensor: TensorProto): boolean {
  return tensor.data_location === DataLocation.EXTERNAL;
}

function malformed(tensor: TensorProto, what: string): ForgeError {
  return new ForgeError("EXPORT_PROTOCOL", `tensor ${tensor.name}: ${what}`, {
    fix: "re-export the model, or keep the .onnx file next to the external data files it was saved with",
  });
}

function parseCount(tensor: TensorProto, key: string, text: string): number {
  if (!/^\d+$/.test(text)) throw malformed(tensor, `external data ${key} "${text}" is not a non-negative integer`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw malformed(tensor, `external data ${key} ${text} is too large`);
  return value;
}

export function externalDataRef(tensor: TensorProto): ExternalDataRef {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const { key, value } of tensor.external_data) {
    if (key === "location") location = value;
    else if (key === "offset") offset = parseCount(tensor, key, value);
    else if (key === "length") length = parseCount(tensor, key, value);
  }
  if (location === undefined || location === "") throw malformed(tensor, "external data without a location");
  // Like onnx's loader: the data must sit in the model's folder or below it.
  const normalized = normalize(location);
  if (isAbsolute(location) || normalized === ".." || normalized.startsWith(`..${sep}`)) {
    throw malformed(tensor, `external data location ${location} is outside the model's folder`);
  }
  return { location: normalized, offset, length };
}

/** The distinct external data files the model references, in order of first reference. */
export function externalDataLocations(model: ModelProto): string[] {
  const locations = new Set<string>();
  forEachTensor(model, (tensor) => {
    if (usesExternalData(tensor)) locations.add(externalDataRef(tensor).location);
  });
  return [...locations];
}

async function readRange(handle: FileHandle, path: string, offset: number, length: number, tensor: TensorProto): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(bytes, read, length - read, offset + read));
    } catch (err) {
      throw fsError(err, path, `reading external data of tensor ${tensor.name}`);
    }
    if (bytesRead === 0) throw malformed(tensor, `${path} ended while reading its external data`);
    read += bytesRead;
  }
  return bytes;
}

/**
 * Reads every EXTERNAL tensor's bytes from its file (relative to `modelDir`) into raw_data and
 * marks it as stored inline, so the in-memory model no longer depends on other files.
 */
export async function readExternalData(model: ModelProto, modelDir: string): Promise<void> {
  const pending: TensorProto[] = [];
  forEachTensor(model, (tensor) => {
    if (usesExternalData(tensor)) pending.push(tensor);
  });
  if (pending.length === 0) return;
  const files = new Map<string, { handle: FileHandle; size: number }>();
  try {
    for (const tensor of pending) {
      const ref = externalDataRef(tensor);
      const path = join(modelDir, ref.location);
      let file = files.get(path);
      try {
        if (file === undefined) {
          const handle = await open(path, "r");
          file = { handle, size: (await handle.stat()).size };
          files.set(path, file);
        }
      } catch (err) {
        throw fsError(err, path, `reading external data of tensor ${tensor.name}`);
      }
      const length = ref.length ?? file.size - ref.offset;
      if (ref.offset + length > file.size || length < 0) {
        throw malformed(
          tensor,
          `external data [${ref.offset}, +${ref.length ?? "end"}) lies beyond the end of ${path} (${file.size} bytes)`,
        );
      }
      withRawData(tensor, await readRange(file.handle, path, ref.offset, length, tensor));
      tensor.external_data = [];
      delete tensor.data_location;
    }
  } finally {
    await Promise.all([...files.values()].map((f) => f.handle.close()));
  }
}

/** Marks `tensor` as stored in `location` at [offset, offset + length) and drops its inline bytes. */
export function pointToExternalData(tensor: TensorProto, location: string, offset: number, length: number): void {
  withRawData(tensor, new Uint8Array(0));
  delete tensor.raw_data;
  tensor.data_location = DataLocation.EXTERNAL;
  tensor.external_data = [createEntry("location", location), createEntry("offset", String(offset)), createEntry("length", String(length))];
}
