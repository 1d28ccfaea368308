import { ForgeError } from "@trtforge/core";
import type { ClassifierFigures } from "./classifier-figures.js";
import type { EmbeddingFigures } from "./embedding-figures.js";

/**
 * Thresholds the candidate must meet against the baseline. Defaults measured on int8 against fp32
 * (docs/compare.md, "Defaults"): each lies between what a sound int8 build reaches and what a
 * damaged one (Q/DQ scales off by 4×) does, with room for article-to-article spread.
 */
export interface Thresholds {
  /** Embeddings: mean cosine of each article's candidate vector to its baseline vector, at least. */
  minCosine: number;
  /** Classifiers: share of articles whose winning label is unchanged, at least. */
  minAgreement: number;
  /** Classifiers: 99th percentile of |Δ probability| of the baseline's winning class, at most. */
  maxConfidenceDelta: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { minCosine: 0.99, minAgreement: 0.98, maxConfidenceDelta: 0.1 };

export function checkThresholds(t: Thresholds): Thresholds {
  const within = (name: string, flag: string, value: number) => {
    if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
      throw new ForgeError("INVALID_OPTION", `${name} ${value} is not a number in [0, 1]`, {
        input: flag,
        fix: `pass ${flag} between 0 and 1 (default ${DEFAULT_THRESHOLDS[name as keyof Thresholds]})`,
      });
    }
  };
  within("minCosine", "--min-cosine", t.minCosine);
  within("minAgreement", "--min-agreement", t.minAgreement);
  within("maxConfidenceDelta", "--max-confidence-delta", t.maxConfidenceDelta);
  return t;
}

export type OutputFigures =
  { output: string; kind: "embedding"; figures: EmbeddingFigures } | { output: string; kind: "classification"; figures: ClassifierFigures };

export interface Verdict {
  passed: boolean;
  /** One sentence per threshold missed, naming the output, the figure and the threshold. */
  failures: string[];
}

export function verdictOf(outputs: readonly OutputFigures[], t: Thresholds): Verdict {
  const failures: string[] = [];
  for (const o of outputs) {
    if (o.kind === "embedding") {
      if (!(o.figures.cosine_mean >= t.minCosine)) {
        failures.push(`${o.output}: cosine mean ${o.figures.cosine_mean.toFixed(5)} < --min-cosine ${t.minCosine}`);
      }
    } else {
      if (!(o.figures.agreement >= t.minAgreement)) {
        failures.push(`${o.output}: label agreement ${o.figures.agreement.toFixed(4)} < --min-agreement ${t.minAgreement}`);
      }
      if (!(o.figures.confidence_delta_p99 <= t.maxConfidenceDelta)) {
        failures.push(
          `${o.output}: p99 |Δ confidence| ${o.figures.confidence_delta_p99.toFixed(4)} > --max-confidence-delta ${t.maxConfidenceDelta}`,
        );
      }
    }
  }
  return { passed: failures.length === 0, failures };
}
