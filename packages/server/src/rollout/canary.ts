import { createHash } from "node:crypto";

/**
 * Where a request id falls in [0, 100): the first 32 bits of its SHA-256. Stable across requests,
 * worker processes and restarts, so one id always goes to the same side of a canary.
 */
export function idPercentile(id: string): number {
  return (createHash("sha256").update(id, "utf8").digest().readUInt32BE(0) / 2 ** 32) * 100;
}

/** Whether a request goes to the canary: by its id where it has one, else at random. */
export function goesToCanary(percent: number, id: string | undefined, random: () => number = Math.random): boolean {
  const at = id === undefined || id === "" ? random() * 100 : idPercentile(id);
  return at < percent;
}
