/**
 * The header of a serialized plan. TensorRT (8.6 and newer), as trtexec --getPlanVersionOnly reads
 * it: bytes 0-3 are the magic tag 0x74727466 stored little-endian (the text "ftrt"), bytes 24-27
 * are the TensorRT major, minor, patch and build numbers, one byte each.
 *
 * TensorRT-RTX plans (read off real 1.7.1.116 plans built for every target set; the fixtures in
 * packages/engine-format/test/fixtures are such plans) start with "vtrt", keep the library version
 * at bytes 24-27, hold the plan's total size as a little-endian u64 at bytes 16-23, and a bit mask
 * of the target compute capabilities at byte 32 (bit 0: 7.5, 1: 8.0, 2: 8.6, 3: 8.9, 4: 12.0,
 * 5: 12.1). The library's default target set sets 0x7e: 8.0 to 12.1 and bit 6, which no
 * ComputeCapability of the 1.7 API names and which is reported as an unknown bit.
 */
export const PLAN_MAGIC = Buffer.from("ftrt", "ascii");
export const RTX_PLAN_MAGIC = Buffer.from("vtrt", "ascii");
export const PLAN_VERSION_OFFSET = 24;
export const PLAN_HEADER_BYTES = 28;
export const RTX_PLAN_SIZE_OFFSET = 16;
export const RTX_PLAN_TARGETS_OFFSET = 32;
export const RTX_PLAN_HEADER_BYTES = 33;

/** Which NVIDIA library wrote a plan; also the builder names of build-engine --builder. */
export const PLAN_LIBRARIES = ["tensorrt", "tensorrt-rtx"] as const;
export type PlanLibrary = (typeof PLAN_LIBRARIES)[number];

/** The compute capability of each bit of a TensorRT-RTX plan's target mask. */
export const RTX_TARGET_BITS: readonly string[] = ["7.5", "8.0", "8.6", "8.9", "12.0", "12.1"];

export interface PlanHeader {
  library: PlanLibrary;
  major: number;
  minor: number;
  patch: number;
  build: number;
  version: string;
  /** TensorRT-RTX only: the compute capabilities the plan was compiled for. */
  compute_capabilities?: string[];
  /** TensorRT-RTX only: set target bits that no known compute capability names. */
  unknown_target_bits?: number[];
  /** TensorRT-RTX only: the plan size the header declares (the file must be this long). */
  declared_bytes?: number;
}

function startsWith(bytes: Uint8Array, magic: Buffer): boolean {
  return bytes.length >= magic.length && Buffer.from(bytes.subarray(0, magic.length)).equals(magic);
}

export function planLibraryOf(bytes: Uint8Array): PlanLibrary | undefined {
  if (startsWith(bytes, PLAN_MAGIC)) return "tensorrt";
  if (startsWith(bytes, RTX_PLAN_MAGIC)) return "tensorrt-rtx";
  return undefined;
}

/** True for a TensorRT or a TensorRT-RTX plan's magic. */
export function hasPlanMagic(bytes: Uint8Array): boolean {
  return planLibraryOf(bytes) !== undefined;
}

export type PlanHeaderReading = { ok: true; header: PlanHeader } | { ok: false; reason: "no-magic" | "truncated" };

export function decodeRtxTargets(mask: number): { capabilities: string[]; unknownBits: number[] } {
  const capabilities: string[] = [];
  const unknownBits: number[] = [];
  for (let bit = 0; bit < 8; bit++) {
    if ((mask & (1 << bit)) === 0) continue;
    const cc = RTX_TARGET_BITS[bit];
    if (cc === undefined) unknownBits.push(bit);
    else capabilities.push(cc);
  }
  return { capabilities, unknownBits };
}

export function readPlanHeader(bytes: Uint8Array): PlanHeaderReading {
  const library = planLibraryOf(bytes);
  if (library === undefined) return { ok: false, reason: "no-magic" };
  if (bytes.length < (library === "tensorrt" ? PLAN_HEADER_BYTES : RTX_PLAN_HEADER_BYTES)) return { ok: false, reason: "truncated" };
  const [major, minor, patch, build] = Array.from(bytes.subarray(PLAN_VERSION_OFFSET, PLAN_HEADER_BYTES)) as [
    number,
    number,
    number,
    number,
  ];
  const header: PlanHeader = { library, major, minor, patch, build, version: `${major}.${minor}.${patch}.${build}` };
  if (library === "tensorrt-rtx") {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { capabilities, unknownBits } = decodeRtxTargets(view.readUInt8(RTX_PLAN_TARGETS_OFFSET));
    header.compute_capabilities = capabilities;
    header.unknown_target_bits = unknownBits;
    header.declared_bytes = Number(view.readBigUInt64LE(RTX_PLAN_SIZE_OFFSET));
  }
  return { ok: true, header };
}
