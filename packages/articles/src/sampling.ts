import { ForgeError } from "@trtforge/core";
import type { Article, ArticleSet } from "./article-set.js";

/** mulberry32: a small seeded PRNG, so that a sample is the same on every machine and Node. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function seededOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const next = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export interface ArticleSplit {
  /** Articles for calibration (or export references). */
  sample: Article[];
  /** Articles never in `sample`, for accuracy measurement. */
  heldOut: Article[];
  seed: number;
}

/**
 * Deterministically splits a set into a sample of `sampleSize` and a disjoint held-out part of
 * `heldOutSize` (0 for none). Asking for more articles than the set has is an error with counts,
 * never a silent shrink.
 */
export function splitArticles(set: ArticleSet, options: { seed: number; sampleSize: number; heldOutSize?: number }): ArticleSplit {
  const heldOutSize = options.heldOutSize ?? 0;
  const needed = options.sampleSize + heldOutSize;
  if (!Number.isInteger(options.sampleSize) || options.sampleSize < 1) {
    throw new ForgeError("INVALID_LIMIT", `sample size must be a positive integer, got ${options.sampleSize}`, {
      fix: "ask for at least one article",
    });
  }
  if (needed > set.articles.length) {
    throw new ForgeError(
      "DATASET_INVALID",
      `${set.source} has ${set.articles.length} usable article(s) (${set.badRows.count} bad row(s)), ${needed} are needed (${options.sampleSize} sampled${heldOutSize ? ` + ${heldOutSize} held out` : ""})`,
      { input: set.source, fix: "give a larger dataset or ask for fewer samples" },
    );
  }
  const order = seededOrder(set.articles.length, options.seed);
  const pick = (from: number, count: number) => order.slice(from, from + count).map((i) => set.articles[i]!);
  return { sample: pick(0, options.sampleSize), heldOut: pick(options.sampleSize, heldOutSize), seed: options.seed };
}
