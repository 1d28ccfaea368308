import { ForgeError } from "@trtforge/core";
import { parseTrtVersion } from "@trtforge/engine-format";

/**
 * TensorRT's integer version as its headers encode it (NV_TENSORRT_VERSION): before 10,
 * major·1000 + minor·100 + patch (8.6.1 → 8601); from 10 on, major·10000 + minor·100 + patch
 * (10.16.0 → 101600). A calibration cache's header carries these digits.
 */
export function trtVersionDigits(version: string): string {
  // engine-format owns what a TensorRT version looks like; this only encodes one.
  const parsed = parseTrtVersion(version.trim());
  const fix = "give the TensorRT version as major.minor.patch, e.g. 10.16.0 or 8.6.1";
  if (parsed === undefined) {
    throw new ForgeError("INVALID_OPTION", `TensorRT version ${JSON.stringify(version)} is not major.minor[.patch]`, {
      input: version,
      fix,
    });
  }
  const { major, minor } = parsed;
  const patch = parsed.patch ?? 0;
  if (major < 1) throw new ForgeError("INVALID_OPTION", `TensorRT version ${version} has major 0`, { input: version, fix });
  if (major < 10) {
    // One digit for the minor and two for the patch: 8.10 or 8.6.100 has no encoding.
    if (minor > 9 || patch > 99)
      throw new ForgeError("INVALID_OPTION", `TensorRT ${version} cannot be encoded as major·1000 + minor·100 + patch`, {
        input: version,
        fix,
      });
    return String(major * 1000 + minor * 100 + patch);
  }
  if (minor > 99 || patch > 99)
    throw new ForgeError("INVALID_OPTION", `TensorRT ${version} cannot be encoded as major·10000 + minor·100 + patch`, {
      input: version,
      fix,
    });
  return String(major * 10000 + minor * 100 + patch);
}

/** The inverse of trtVersionDigits: "8601" → "8.6.1", "101600" → "10.16.0"; undefined for other forms. */
export function trtVersionOfDigits(digits: string): string | undefined {
  if (!/^\d+$/.test(digits)) return undefined;
  const value = Number(digits);
  if (digits.length === 4 && value >= 1000) return `${Math.floor(value / 1000)}.${Math.floor(value / 100) % 10}.${value % 100}`;
  if (digits.length === 6 && value >= 100000) return `${Math.floor(value / 10000)}.${Math.floor(value / 100) % 100}.${value % 100}`;
  return undefined;
}
