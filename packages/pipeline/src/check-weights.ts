import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError } from "@trtforge/core";

/** A safetensors header larger than this is not a header (the format caps it at 100 MB). */
const MAX_SAFETENSORS_HEADER = 100_000_000;
/** A zip's end-of-central-directory record lies in its last 22 bytes plus a comment of at most 64 KiB. */
const ZIP_TAIL = 22 + 0xffff;

function corrupt(file: string, why: string): ForgeError {
  return new ForgeError("EXPORT_NOT_A_MODEL", `the weights file ${file} is damaged: ${why}`, {
    input: file,
    fix: "download the model again (or restore the file from the ModelStore or a backup), then rerun",
  });
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A safetensors file is an 8-byte little-endian header length, a JSON header giving each tensor's
 * [begin, end) in the data block, then the data block: the header must parse and the data block
 * must end exactly where the last tensor does. Reads the header only, never the tensors.
 */
export async function checkSafetensors(path: string): Promise<void> {
  const size = (await stat(path)).size;
  if (size < 8) throw corrupt(path, `${size} bytes, shorter than the 8-byte header length`);
  const headerLength = Number((await readAt(path, 0, 8)).readBigUInt64LE(0));
  if (headerLength > MAX_SAFETENSORS_HEADER || 8 + headerLength > size)
    throw corrupt(path, `its header claims ${headerLength} bytes but the file has ${size}`);
  let header: Record<string, { data_offsets?: unknown }>;
  try {
    header = JSON.parse((await readAt(path, 8, headerLength)).toString("utf8")) as typeof header;
  } catch (err) {
    throw corrupt(path, `its header is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  let end = 0;
  for (const [name, tensor] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const offsets = tensor.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((n) => Number.isSafeInteger(n) && (n as number) >= 0))
      throw corrupt(path, `tensor "${name}" has no valid data_offsets`);
    end = Math.max(end, offsets[1] as number);
  }
  const data = size - 8 - headerLength;
  if (data !== end) throw corrupt(path, `its tensors end at byte ${end} of the data block, which has ${data} bytes (truncated or padded)`);
}

/** A PyTorch .bin is a zip archive: a cut or overwritten tail loses its end-of-central-directory record. */
export async function checkTorchZip(path: string): Promise<void> {
  const size = (await stat(path)).size;
  // Legacy (pre-zip) pickles have no directory to check: left to the loader.
  if (!(await readAt(path, 0, 2)).equals(Buffer.from("PK"))) return;
  const tailLength = Math.min(size, ZIP_TAIL);
  const tail = await readAt(path, size - tailLength, tailLength);
  if (tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) < 0)
    throw corrupt(path, "it is not a complete zip archive (no end-of-central-directory record): truncated or overwritten");
}

/**
 * Checks a plain model folder's weight files cheaply (headers and sizes, milliseconds), before the
 * export loads them: a damaged download is named at once instead of by the exporter after seconds.
 */
export async function checkWeightFiles(folder: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return; // a missing folder is the model resolver's error, with its own message
  }
  for (const name of names.sort()) {
    if (name.endsWith(".safetensors")) await checkSafetensors(join(folder, name));
    else if (/^pytorch_model.*\.bin$/.test(name)) await checkTorchZip(join(folder, name));
  }
}
