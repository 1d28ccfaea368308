/** Accumulates how far a candidate's outputs are from a reference's, sample by sample. */
export interface OutputComparison {
  output: string;
  samples: number;
  max_abs_diff: number;
  cosine_mean: number;
  cosine_min: number;
  /**
   * The 1st percentile of the per-sample cosines (nearest rank: the ⌈n/100⌉-th lowest; the minimum
   * below 100 samples): the tail a mean hides, without the single outlier the minimum is.
   */
  cosine_p01: number;
}

/** Nearest-rank percentile (0 < share ≤ 1) of values sorted ascending. */
export function lowPercentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)]!;
}

export class OutputComparator {
  private samples = 0;
  private maxAbs = 0;
  private cosineSum = 0;
  private cosineMin = Infinity;
  private readonly cosines: number[] = [];

  constructor(readonly output: string) {}

  /** `rowSize` values per sample; cosine is taken over each sample's whole output. */
  add(reference: ArrayLike<number>, candidate: ArrayLike<number>, rowSize: number): void {
    if (reference.length !== candidate.length)
      throw new Error(`${this.output}: ${reference.length} reference values, ${candidate.length} candidate values`);
    for (let row = 0; row < reference.length / rowSize; row++) {
      let dot = 0;
      let nr = 0;
      let nc = 0;
      for (let i = row * rowSize; i < (row + 1) * rowSize; i++) {
        const r = reference[i]!;
        const c = candidate[i]!;
        const d = Math.abs(r - c);
        // NaN must never compare as "within tolerance".
        if (!(d <= this.maxAbs)) this.maxAbs = Number.isNaN(d) ? Infinity : d;
        dot += r * c;
        nr += r * r;
        nc += c * c;
      }
      const cosine = nr === 0 && nc === 0 ? 1 : dot / (Math.sqrt(nr) * Math.sqrt(nc) || Infinity);
      this.cosineSum += Number.isNaN(cosine) ? 0 : cosine;
      this.cosineMin = Math.min(this.cosineMin, Number.isNaN(cosine) ? -1 : cosine);
      this.cosines.push(Number.isNaN(cosine) ? -1 : cosine);
      this.samples++;
    }
  }

  result(): OutputComparison {
    return {
      output: this.output,
      samples: this.samples,
      max_abs_diff: this.maxAbs,
      cosine_mean: this.samples === 0 ? 0 : this.cosineSum / this.samples,
      cosine_min: this.samples === 0 ? 0 : this.cosineMin,
      cosine_p01: lowPercentile(
        [...this.cosines].sort((a, b) => a - b),
        0.01,
      ),
    };
  }
}
