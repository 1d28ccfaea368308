import { argmax, mean, percentile } from "./stats.js";

/** How much of a flipped article's text the report keeps. */
export const EXCERPT_CHARS = 160;
/** Flipped articles listed in full in the report (the count is always exact). */
export const MAX_FLIPS_LISTED = 50;

export interface Flip {
  id: string;
  excerpt: string;
  baseline: { label: string; confidence: number };
  candidate: { label: string; confidence: number };
}

export interface ClassifierFigures {
  rows: number;
  labels: string[];
  /** Share of articles whose winning label is the same on both sides. */
  agreement: number;
  /** confusion[baseline label][candidate label] = articles. */
  confusion: Record<string, Record<string, number>>;
  /** |candidate − baseline| probability of the baseline's winning class, over all articles. */
  confidence_delta_mean: number;
  confidence_delta_p99: number;
  confidence_delta_max: number;
  flips: number;
  flipped: Flip[];
}

export interface ArticleRef {
  id: string;
  text: string;
}

/**
 * Label figures from the two sides' class probabilities (the served head's softmax or sigmoid). The
 * winning class is the argmax on each side; for a multi-label head that is its most confident label.
 */
export function classifierFigures(
  labels: readonly string[],
  baseline: readonly Float32Array[],
  candidate: readonly Float32Array[],
  articles: readonly ArticleRef[],
): ClassifierFigures {
  if (baseline.length !== candidate.length || baseline.length !== articles.length) {
    throw new Error(`${baseline.length} baseline rows, ${candidate.length} candidate rows, ${articles.length} articles`);
  }
  const confusion: Record<string, Record<string, number>> = {};
  for (const a of labels) confusion[a] = Object.fromEntries(labels.map((b) => [b, 0]));
  const deltas: number[] = [];
  const flipped: Flip[] = [];
  let agreed = 0;
  let flips = 0;
  for (let r = 0; r < baseline.length; r++) {
    const pa = baseline[r]!;
    const pb = candidate[r]!;
    const wa = argmax(pa);
    const wb = argmax(pb);
    confusion[labels[wa]!]![labels[wb]!]! += 1;
    deltas.push(Math.abs(pb[wa]! - pa[wa]!));
    if (wa === wb) {
      agreed++;
      continue;
    }
    flips++;
    if (flipped.length < MAX_FLIPS_LISTED) {
      const article = articles[r]!;
      flipped.push({
        id: article.id,
        excerpt: article.text.length > EXCERPT_CHARS ? `${article.text.slice(0, EXCERPT_CHARS)}…` : article.text,
        baseline: { label: labels[wa]!, confidence: pa[wa]! },
        candidate: { label: labels[wb]!, confidence: pb[wb]! },
      });
    }
  }
  return {
    rows: baseline.length,
    labels: [...labels],
    agreement: baseline.length === 0 ? 1 : agreed / baseline.length,
    confusion,
    confidence_delta_mean: mean(deltas),
    confidence_delta_p99: percentile(deltas, 99),
    confidence_delta_max: Math.max(...deltas),
    flips,
    flipped,
  };
}
