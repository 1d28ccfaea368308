import { cosine } from "@trtforge/core";
import { mean, percentile } from "./stats.js";

/** How many nearest neighbours each article's ranking is compared on (JustNewsAgent's memory agent retrieves about this many). */
export const NEIGHBOURS = 10;

export interface EmbeddingFigures {
  rows: number;
  dim: number;
  cosine_mean: number;
  cosine_min: number;
  cosine_p5: number;
  max_abs_diff: number;
  /** Of each article's top-10 neighbours among the others (by cosine) on the baseline, the share the candidate also ranks in its top 10. */
  neighbour_overlap_mean: number;
  neighbour_overlap_min: number;
  neighbours: number;
}

/** Rows scaled to unit length, so that a dot product is their cosine. */
function normalized(rows: readonly Float32Array[]): Float32Array[] {
  return rows.map((row) => {
    let norm = 0;
    for (const v of row) norm += v * v;
    const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    return row.map((v) => v * scale);
  });
}

/** Indices of the k rows most similar to row i (i itself excluded), by cosine; ties broken by lower index. */
export function nearestNeighbours(unit: readonly Float32Array[], i: number, k: number): number[] {
  const scored: { j: number; s: number }[] = [];
  const a = unit[i]!;
  for (let j = 0; j < unit.length; j++) {
    if (j === i) continue;
    const b = unit[j]!;
    let s = 0;
    for (let d = 0; d < a.length; d++) s += a[d]! * b[d]!;
    scored.push({ j, s });
  }
  scored.sort((x, y) => y.s - x.s || x.j - y.j);
  return scored.slice(0, k).map((x) => x.j);
}

/** Per-row cosine and max abs diff, and the change in each article's nearest-neighbour ranking. */
export function embeddingFigures(baseline: readonly Float32Array[], candidate: readonly Float32Array[]): EmbeddingFigures {
  if (baseline.length !== candidate.length) throw new Error(`${baseline.length} baseline rows, ${candidate.length} candidate rows`);
  const cosines: number[] = [];
  let maxAbs = 0;
  for (let r = 0; r < baseline.length; r++) {
    const a = baseline[r]!;
    const b = candidate[r]!;
    cosines.push(cosine(a, b));
    for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
  }
  const k = Math.min(NEIGHBOURS, baseline.length - 1);
  const overlaps: number[] = [];
  if (k > 0) {
    const ua = normalized(baseline);
    const ub = normalized(candidate);
    for (let i = 0; i < ua.length; i++) {
      const na = new Set(nearestNeighbours(ua, i, k));
      const shared = nearestNeighbours(ub, i, k).filter((j) => na.has(j)).length;
      overlaps.push(shared / k);
    }
  }
  return {
    rows: baseline.length,
    dim: baseline[0]?.length ?? 0,
    cosine_mean: mean(cosines),
    cosine_min: Math.min(...cosines),
    cosine_p5: percentile(cosines, 5),
    max_abs_diff: maxAbs,
    neighbour_overlap_mean: overlaps.length === 0 ? 1 : mean(overlaps),
    neighbour_overlap_min: overlaps.length === 0 ? 1 : Math.min(...overlaps),
    neighbours: k,
  };
}
