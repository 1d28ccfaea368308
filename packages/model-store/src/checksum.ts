import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { storeReadError } from "./store-errors.js";
import type { TreeFile } from "./tree-walk.js";

/** Large reads keep per-call overhead negligible next to hashing; two buffers overlap I/O with hashing. */
export const READ_CHUNK_BYTES = 4 << 20;

export interface FileDigest {
  sha256: string;
  size: number;
}

export interface TreeDigest {
  /** The JustNewsAgent checksum over the files with inChecksum set. */
  checksum: string;
  /** Per-file sha256 by relative path (only when asked for). */
  files: Map<string, FileDigest>;
  /** Files and bytes read (every file given, when perFile; otherwise those in the checksum). */
  fileCount: number;
  totalBytes: number;
}

export class ChunkReader {
  private readonly buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(READ_CHUNK_BYTES), Buffer.allocUnsafe(READ_CHUNK_BYTES)];

  /** Feeds the file's bytes to `sink` in order; the next chunk is read while `sink` hashes this one. */
  async stream(path: string, sink: (chunk: Buffer) => void): Promise<number> {
    let handle;
    try {
      handle = await open(path, "r");
    } catch (err) {
      throw storeReadError(err, path, "reading file");
    }
    let position = 0;
    let which = 0;
    let pending = handle.read(this.buffers[0], 0, READ_CHUNK_BYTES, 0);
    try {
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const chunk = this.buffers[which as 0 | 1].subarray(0, bytesRead);
        position += bytesRead;
        which ^= 1;
        pending = handle.read(this.buffers[which as 0 | 1], 0, READ_CHUNK_BYTES, position);
        sink(chunk);
      }
    } catch (err) {
      await pending.catch(() => undefined);
      throw storeReadError(err, path, "reading file");
    } finally {
      await handle.close();
    }
    return position;
  }
}

/**
 * Hashes a tree in one pass. The top-level hash follows JustNewsAgent exactly: for each file in walk
 * order, its UTF-8 relative path then its bytes, no separator. With `perFile`, each file's own
 * sha256 is computed from the same reads (costs a second hash per byte, so verify only asks for it
 * when the top-level checksum already failed).
 */
export async function digestTree(files: readonly TreeFile[], options: { perFile: boolean }): Promise<TreeDigest> {
  const top = createHash("sha256");
  const reader = new ChunkReader();
  const perFile = new Map<string, FileDigest>();
  let totalBytes = 0;
  let fileCount = 0;
  for (const file of files) {
    if (!file.inChecksum && !options.perFile) continue;
    const own: Hash | undefined = options.perFile ? createHash("sha256") : undefined;
    if (file.inChecksum) top.update(file.relPath, "utf8");
    const sink = file.inChecksum
      ? own === undefined
        ? (chunk: Buffer) => top.update(chunk)
        : (chunk: Buffer) => {
            top.update(chunk);
            own.update(chunk);
          }
      : (chunk: Buffer) => own?.update(chunk);
    const size = await reader.stream(file.absPath, sink);
    if (own !== undefined) perFile.set(file.relPath, { sha256: own.digest("hex"), size });
    totalBytes += size;
    fileCount += 1;
  }
  return { checksum: top.digest("hex"), files: perFile, fileCount, totalBytes };
}

/** sha256 of selected files only (the nested manifest.json files the top-level checksum skips). */
export async function digestFiles(files: readonly TreeFile[]): Promise<Map<string, FileDigest>> {
  const reader = new ChunkReader();
  const out = new Map<string, FileDigest>();
  for (const file of files) {
    const hash = createHash("sha256");
    const size = await reader.stream(file.absPath, (chunk) => hash.update(chunk));
    out.set(file.relPath, { sha256: hash.digest("hex"), size });
  }
  return out;
}
