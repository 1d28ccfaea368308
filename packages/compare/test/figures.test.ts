import { describe, expect, it } from "vitest";
import {
  classifierFigures,
  DEFAULT_THRESHOLDS,
  embeddingFigures,
  nearestNeighbours,
  percentile,
  reportMarkdown,
  verdictOf,
} from "../src/index.js";
import type { CompareReport } from "../src/index.js";

const rows = (...r: number[][]) => r.map((x) => Float32Array.from(x));

describe("embedding figures", () => {
  it("cosine per row, its mean, min and 5th percentile, and the max abs diff", () => {
    const a = rows([1, 0], [0, 1], [1, 1], [2, 0]);
    const b = rows([1, 0], [0, 2], [1, -1], [1, 1]);
    const f = embeddingFigures(a, b);
    // cosines: 1, 1, 0, 1/√2
    expect(f.cosine_mean).toBeCloseTo((1 + 1 + 0 + Math.SQRT1_2) / 4, 6);
    expect(f.cosine_min).toBeCloseTo(0, 6);
    expect(f.cosine_p5).toBeCloseTo(0, 6);
    expect(f.max_abs_diff).toBeCloseTo(2, 6);
    expect(f.dim).toBe(2);
  });

  it("top-k neighbours exclude the article itself; identical embeddings overlap fully, a reshuffled set does not", () => {
    const a = rows([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1], [0, 0, 1]);
    // Row 0's closest is row 1; the rest tie at cosine 0 and the lower index wins.
    expect(nearestNeighbours(a, 0, 2)).toEqual([1, 2]);
    expect(nearestNeighbours(a, 3, 1)).toEqual([2]);
    expect(embeddingFigures(a, a)).toMatchObject({ neighbour_overlap_mean: 1, neighbour_overlap_min: 1, neighbours: 4, cosine_mean: 1 });
    // Three articles, k = 2 (all others): row 1 moving next to row 2 changes nothing at k = 2 ...
    const k1 = embeddingFigures(
      rows(
        ...[
          [1, 0],
          [0.9, 0.1],
          [0, 1],
        ],
      ),
      rows(
        ...[
          [1, 0],
          [0, 1],
          [0.1, 0.9],
        ],
      ),
    );
    expect(k1.neighbour_overlap_min).toBe(1);
    expect(k1.neighbours).toBe(2);
    // ... but with four articles (k = 3 of 3) still everything; with eleven, k = 10 of 10. The overlap
    // drops only where k < n − 1: twelve points on a line, two of them moved to the far end.
    const line = Array.from({ length: 12 }, (_, i) => [Math.cos(i / 20), Math.sin(i / 20)]);
    const moved = line.map((p, i) => (i === 0 ? line[11]! : i === 11 ? line[0]! : p));
    const f = embeddingFigures(rows(...line), rows(...moved));
    expect(f.neighbours).toBe(10);
    expect(f.neighbour_overlap_min).toBeLessThan(1);
    expect(f.cosine_min).toBeLessThan(1);
  });
});

describe("classifier figures", () => {
  const labels = ["World", "Sports"];
  const articles = ["a", "b", "c", "d"].map((id) => ({ id, text: `text of ${id} `.repeat(30) }));
  it("agreement, confusion table, |Δ confidence| of the baseline's winning class, and the flipped articles", () => {
    const a = rows([0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]);
    const b = rows([0.8, 0.2], [0.2, 0.8], [0.4, 0.6], [0.35, 0.65]);
    const f = classifierFigures(labels, a, b, articles);
    expect(f.agreement).toBe(0.75);
    expect(f.flips).toBe(1);
    expect(f.confusion).toEqual({ World: { World: 1, Sports: 1 }, Sports: { World: 0, Sports: 2 } });
    expect(f.confidence_delta_mean).toBeCloseTo((0.1 + 0 + 0.2 + 0.05) / 4, 6);
    expect(f.confidence_delta_p99).toBeCloseTo(0.2, 6);
    expect(f.flipped).toEqual([
      {
        id: "c",
        excerpt: `${articles[2]!.text.slice(0, 160)}…`,
        baseline: { label: "World", confidence: expect.closeTo(0.6, 6) },
        candidate: { label: "Sports", confidence: expect.closeTo(0.6, 6) },
      },
    ]);
  });
});

describe("verdict", () => {
  it("fails each threshold missed, naming the output and the figure", () => {
    const embedding = {
      output: "sentence_embedding",
      kind: "embedding" as const,
      figures: embeddingFigures(rows([1, 0], [0, 1]), rows([1, 1], [0, 1])),
    };
    const v = verdictOf([embedding], DEFAULT_THRESHOLDS);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([`sentence_embedding: cosine mean ${embedding.figures.cosine_mean.toFixed(5)} < --min-cosine 0.99`]);
    expect(verdictOf([embedding], { ...DEFAULT_THRESHOLDS, minCosine: 0.8 }).passed).toBe(true);
    const label = {
      output: "label",
      kind: "classification" as const,
      figures: classifierFigures(["x", "y"], rows([0.9, 0.1], [0.9, 0.1]), rows([0.4, 0.6], [0.9, 0.1]), [
        { id: "1", text: "one" },
        { id: "2", text: "two" },
      ]),
    };
    expect(verdictOf([label], DEFAULT_THRESHOLDS).failures).toEqual([
      "label: label agreement 0.5000 < --min-agreement 0.98",
      "label: p99 |Δ confidence| 0.5000 > --max-confidence-delta 0.1",
    ]);
  });

  it("percentile is nearest-rank", () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 5)).toBe(1);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
  });
});

describe("the Markdown table", () => {
  it("says passed or failed, both sides and each figure", () => {
    const figures = embeddingFigures(rows([1, 0], [0, 1], [1, 1]), rows([1, 0.1], [0, 1], [1, 1]));
    const side = (version: string, artifact: string) => ({
      agent: "e",
      version,
      backend: "onnxruntime" as const,
      onnx_variant: "auto",
      evidence: {
        model_id: "m",
        hf_revision: "r",
        agent: "e",
        version,
        backend: "onnxruntime" as const,
        precision: "fp32",
        checksum: "0",
        artifact,
      },
    });
    const timing = { batches: 1, batch_ms_mean: 2, batch_ms_p50: 2, batch_ms_p95: 2, articles_per_second: 1500 };
    const report: CompareReport = {
      format: "trtforge-compare/1",
      created_at: "2026-12-07T18:00:00.000Z",
      baseline: side("v1", "model.onnx"),
      candidate: side("v2", "model.qdq.onnx"),
      kind: "embedding",
      articles: { source: "/x/test.csv", sha256: "0", available: 3, count: 3, seed: 0, ids: ["a", "b", "c"] },
      outputs: [{ output: "sentence_embedding", kind: "embedding", figures }],
      latency: { batch_size: 32, baseline: timing, candidate: timing },
      thresholds: DEFAULT_THRESHOLDS,
      verdict: verdictOf([{ output: "sentence_embedding", kind: "embedding", figures }], DEFAULT_THRESHOLDS),
    };
    const md = reportMarkdown(report);
    expect(md.split("\n")[0]).toBe("# PASSED: e@v2 against e@v1");
    expect(md).toContain(`| sentence_embedding | cosine mean | ${figures.cosine_mean.toFixed(5)} | ≥ 0.99 |`);
    expect(md).toContain("- candidate: e@v2 (onnxruntime, model.qdq.onnx, fp32)");
  });
});
