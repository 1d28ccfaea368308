import { ForgeError } from "@trtforge/core";

/** One sequence length calibrated at, and the largest |x| each fetched tensor reached there. */
export interface LengthBand {
  seq_len: number;
  /** Rows run at this length. */
  rows: number;
  /** Tensor → largest finite |x| in this band's rows (fetched tensors only; derived ones follow their source). */
  amax: Record<string, number>;
}

/** A tensor whose range at the longest length exceeds every shorter one's by at least LONG_ONLY_FACTOR. */
export interface LongOnlyRange {
  tensor: string;
  longest: number;
  shorter: number;
  factor: number;
}

/** Ranges at least this much wider in the longest band than in any shorter one are called out. */
export const LONG_ONLY_FACTOR = 1.1;

/**
 * The sequence lengths to calibrate at: sorted, each once, each a positive integer no longer than
 * the model takes. Checked before any run, with the offending length named.
 */
export function checkLengths(lengths: readonly number[], maxLength: number | undefined, modelDir: string): number[] {
  if (lengths.length === 0) {
    throw new ForgeError("INVALID_LIMIT", "lengths must name at least one sequence length", {
      input: "lengths",
      fix: "give the build profile's sequence lengths, e.g. [128, 256]",
    });
  }
  for (const length of lengths) {
    if (!Number.isSafeInteger(length) || length < 1) {
      throw new ForgeError("INVALID_LIMIT", `calibration length ${length} is not a positive integer`, {
        input: "lengths",
        fix: "give the build profile's sequence lengths, e.g. [128, 256]",
      });
    }
    if (maxLength !== undefined && length > maxLength) {
      throw new ForgeError(
        "INVALID_LIMIT",
        `calibration length ${length} is longer than the ${maxLength} tokens the model of ${modelDir} takes`,
        {
          input: "lengths",
          fix: `use lengths of at most ${maxLength}`,
        },
      );
    }
  }
  return [...new Set(lengths)].sort((a, b) => a - b);
}

/**
 * Splits `count` rows over the bands as evenly as possible, whole batches first, so that every
 * band gets a share; the longest bands get the remainder (the lengths a news service mostly sees).
 */
export function rowsPerBand(count: number, bands: number): number[] {
  const base = Math.floor(count / bands);
  const extra = count - base * bands;
  return Array.from({ length: bands }, (_, i) => base + (i >= bands - extra ? 1 : 0));
}

/** Tensors whose range grows in the longest band: what calibrating at a shorter length alone would clip. */
export function longOnlyRanges(bands: readonly LengthBand[], factor = LONG_ONLY_FACTOR): LongOnlyRange[] {
  if (bands.length < 2) return [];
  const longest = bands[bands.length - 1]!;
  const result: LongOnlyRange[] = [];
  for (const [tensor, value] of Object.entries(longest.amax)) {
    const shorter = Math.max(...bands.slice(0, -1).map((b) => b.amax[tensor] ?? 0));
    if (shorter > 0 && value >= shorter * factor) result.push({ tensor, longest: value, shorter, factor: value / shorter });
  }
  return result.sort((a, b) => b.factor - a.factor);
}

/** Shorter rows than this carry too few tokens to say much about a tensor's range; the band starts here. */
export const MIN_BAND_LENGTH = 32;

/**
 * The lengths to calibrate a build profile at: each of its shapes' sequence lengths (the shortest
 * raised to MIN_BAND_LENGTH, never past the longest) and the midpoint of the two longest, since a
 * news service's traffic sits mostly between the optimum and the maximum.
 */
export function calibrationLengths(shapeLengths: readonly number[]): number[] {
  const longest = Math.max(...shapeLengths);
  const lengths = [...new Set(shapeLengths.map((l) => Math.min(longest, Math.max(l, MIN_BAND_LENGTH))))].sort((a, b) => a - b);
  if (lengths.length >= 2) {
    const [below, top] = lengths.slice(-2) as [number, number];
    const middle = Math.round((below + top) / 2);
    if (middle > below && middle < top) lengths.splice(lengths.length - 1, 0, middle);
  }
  return lengths;
}
