import { ForgeError } from "@trtforge/core";
import type { AccuracyFigure } from "@trtforge/accuracy";

/** Fails the build when any output's mean cosine against fp32 on held-out articles is below `minCosine`. */
export function assertAccuracy(figures: readonly AccuracyFigure[], minCosine: number | undefined, what: string): void {
  if (minCosine === undefined) return;
  const failing = figures.filter((f) => !(f.cosine_mean >= minCosine));
  if (failing.length === 0) return;
  throw new ForgeError(
    "ACCURACY_GATE_FAILED",
    `${what} is less accurate than --min-cosine ${minCosine} on held-out articles:\n${failing
      .map(
        (f) =>
          `  ${f.output}${f.shape ? ` at the ${f.shape.name} shape [${f.shape.batch}, ${f.shape.seq_len}]` : ""} over ${f.samples} samples: cosine mean ${f.cosine_mean.toFixed(5)} min ${f.cosine_min.toFixed(5)}, max |diff| ${f.max_abs_diff.toExponential(2)}${f.label_agreement === undefined ? "" : `, labels agree ${(f.label_agreement * 100).toFixed(1)}% (${f.label_decision ?? "argmax"})`}`,
      )
      .join("\n")}`,
    {
      fix: "calibrate on more or more representative articles, try --calibration-algorithm percentile or max, or lower --min-cosine if this loss is acceptable",
    },
  );
}
