/**
 * The header of a serialized TensorRT plan (8.6 and newer), as trtexec --getPlanVersionOnly reads
 * it: bytes 0-3 are the magic tag 0x74727466 stored little-endian (the text "ftrt"), bytes 24-27
 * are the TensorRT major, minor, patch and build numbers, one byte each. Nothing else of the layout
 * is public; no real plan can be built here, so tests write byte layouts from this description.
 */
export const PLAN_MAGIC = Buffer.from("ftrt", "ascii");
export const PLAN_VERSION_OFFSET = 24;
export const PLAN_HEADER_BYTES = 28;

export interface PlanHeader {
  major: number;
  minor: number;
  patch: number;
  build: number;
  version: string;
}

export function hasPlanMagic(bytes: Uint8Array): boolean {
  return bytes.length >= PLAN_MAGIC.length && Buffer.from(bytes.subarray(0, PLAN_MAGIC.length)).equals(PLAN_MAGIC);
}

export type PlanHeaderReading = { ok: true; header: PlanHeader } | { ok: false; reason: "no-magic" | "truncated" };

export function readPlanHeader(bytes: Uint8Array): PlanHeaderReading {
  if (!hasPlanMagic(bytes)) return { ok: false, reason: "no-magic" };
  if (bytes.length < PLAN_HEADER_BYTES) return { ok: false, reason: "truncated" };
  const [major, minor, patch, build] = Array.from(bytes.subarray(PLAN_VERSION_OFFSET, PLAN_HEADER_BYTES)) as [
    number,
    number,
    number,
    number,
  ];
  return { ok: true, header: { major, minor, patch, build, version: `${major}.${minor}.${patch}.${build}` } };
}
