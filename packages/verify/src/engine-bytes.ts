import { open } from "node:fs/promises";
import { fsError } from "@trtforge/core";
import {
  decodeMarker,
  hasMarkerMagic,
  hasPlanMagic,
  LEGACY_MARKER_PREFIX,
  MARKER_MAX_BYTES,
  readPlanHeader,
  type MarkerBody,
  type PlanHeader,
} from "@trtforge/engine-format";

/** What the engine file's own bytes say it is, independent of any metadata. */
export type EngineBytes =
  | { kind: "plan"; header: PlanHeader }
  | { kind: "marker"; body: MarkerBody }
  | { kind: "truncated-plan" }
  | { kind: "broken-marker"; reason: string }
  | { kind: "legacy-marker" }
  | { kind: "unknown" };

const HEAD_BYTES = 64 * 1024;

/** The bytes classifyEngineHead needs from the start of an engine file. */
export const ENGINE_HEAD_BYTES = Math.max(HEAD_BYTES, MARKER_MAX_BYTES);

/** Reads only the head of the file: plans can be gigabytes, and markers are at most 64 KiB. */
export async function classifyEngineFile(path: string, size: number): Promise<EngineBytes> {
  let head: Buffer;
  try {
    const handle = await open(path, "r");
    try {
      const length = Math.min(size, ENGINE_HEAD_BYTES);
      head = Buffer.alloc(length);
      const { bytesRead } = await handle.read(head, 0, length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fsError(err, path, "reading engine");
  }
  return classifyEngineHead(head, size);
}

/**
 * What an engine is from its first bytes (up to 64 KiB; the whole file where it is smaller) and its
 * size: the part of classifyEngineFile that needs no file, for bytes already in memory.
 */
export function classifyEngineHead(head: Buffer, size: number): EngineBytes {
  if (hasPlanMagic(head)) {
    const reading = readPlanHeader(head);
    if (!reading.ok) return { kind: "truncated-plan" };
    // A TensorRT-RTX header states the plan's size: a shorter file was cut off.
    const declared = reading.header.declared_bytes;
    if (declared !== undefined && declared !== size) return { kind: "truncated-plan" };
    return { kind: "plan", header: reading.header };
  }
  if (hasMarkerMagic(head)) {
    if (size > MARKER_MAX_BYTES)
      return { kind: "broken-marker", reason: `a marker is at most ${MARKER_MAX_BYTES} bytes, this file has ${size}` };
    const decoded = decodeMarker(head);
    return decoded.ok ? { kind: "marker", body: decoded.body } : { kind: "broken-marker", reason: decoded.reason };
  }
  if (head.subarray(0, LEGACY_MARKER_PREFIX.length).toString("utf8") === LEGACY_MARKER_PREFIX) return { kind: "legacy-marker" };
  return { kind: "unknown" };
}
