import { ForgeError } from "@trtforge/core";
import type { FullShape } from "@trtforge/accuracy";
import { insertQdq, quantizationSites, serializeOnnxModel, type OnnxModel } from "@trtforge/onnx-graph";
import type { ModelTokenizer } from "@trtforge/tokenizer";
import { ShapeProbe } from "./shape-probe.js";

/** Articles a probe's shape is filled from (its rows join them, cycling). */
export const PROBE_TEXTS = 8;

/** One MatMul's int8 error alone: every other site in float. */
export interface SiteSensitivity {
  node: string;
  /** Lowest per-output mean cosine against fp32 with only this site in int8. */
  cosine: number;
  /** 1 − cosine: what this site costs. */
  loss: number;
}

export interface MeasureSensitivityOptions {
  model: OnnxModel;
  scales: ReadonlyMap<string, number>;
  tokenizer: ModelTokenizer;
  /** Calibration articles (never the held-out ones), a few: the shape's rows are joined from them. */
  texts: readonly string[];
  outputs: readonly string[];
  /** Where to measure: the longest profile shape is where int8 loses most (attention probabilities thin out). */
  shape: FullShape;
  /** Only these sites (node names); default every site with scales. */
  nodes?: readonly string[];
  onSite?: (done: number, total: number) => void;
  /** Checked before each site: an aborted run stops with CANCELLED. */
  signal?: AbortSignal | undefined;
  /** The shape with fp32 outputs already computed (planW8A8 shares one); default: made here from texts and shape. */
  probe?: ShapeProbe;
}

/**
 * Measured per-layer sensitivity: for each quantization site with scales, the model with only that
 * site in int8 runs once at `shape` against fp32 (computed once), and its cosine loss is recorded,
 * worst first. One ONNX Runtime run per site: keep the shape's batch small.
 */
export async function measureSensitivity(o: MeasureSensitivityOptions): Promise<SiteSensitivity[]> {
  const sites = quantizationSites(o.model).filter((s) => s.activations.every((a) => o.scales.has(a.tensor)));
  const wanted = o.nodes === undefined ? sites : sites.filter((s) => o.nodes!.includes(s.nodeName));
  const names = new Set(sites.map((s) => s.nodeName));
  if (names.size !== sites.length || sites.some((s) => s.nodeName === "")) {
    throw new ForgeError("INVALID_ARGUMENT", "measuring sensitivity needs every MatMul site to have its own node name", {
      fix: "export the model with the trtforge exporter, which names every node",
    });
  }
  const probe =
    o.probe ??
    (await ShapeProbe.create({
      reference: o.model,
      onnxPath: "the model measured for sensitivity",
      tokenizer: o.tokenizer,
      texts: o.texts.slice(0, PROBE_TEXTS),
      outputs: o.outputs,
      shapes: [o.shape],
    }));
  const result: SiteSensitivity[] = [];
  for (const [i, site] of wanted.entries()) {
    throwIfCancelled(o.signal, `measuring int8 sensitivity (site ${i + 1} of ${wanted.length})`);
    const floatNodes = new Set([...names].filter((n) => n !== site.nodeName));
    const candidate = serializeOnnxModel(insertQdq(o.model, { activationScales: o.scales, floatNodes }).model);
    const cosine = await probe.cosine(candidate);
    result.push({ node: site.nodeName, cosine, loss: 1 - cosine });
    o.onSite?.(i + 1, wanted.length);
  }
  return result.sort((a, b) => b.loss - a.loss);
}

export function throwIfCancelled(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted === true) throw new ForgeError("CANCELLED", `cancelled while ${where}`, { fix: "run the command again" });
}

/** The share of MatMuls that may stay in float (issue 24: at most 10%). */
export const MAX_FLOAT_SHARE = 0.1;

/**
 * The sites to keep in float: the most sensitive first, at most `maxShare` of `totalSites`
 * (rounded down), and only those whose loss is at least `minLoss` (a site that costs nothing is
 * not worth its float time).
 */
export function chooseFloatSites(
  ranked: readonly SiteSensitivity[],
  totalSites: number,
  maxShare = MAX_FLOAT_SHARE,
  minLoss = 0,
): string[] {
  if (!(maxShare >= 0 && maxShare <= 1)) {
    throw new ForgeError("INVALID_LIMIT", `the float share must be in [0, 1], got ${maxShare}`, { input: "maxShare", fix: "use 0.1" });
  }
  const budget = Math.floor(totalSites * maxShare);
  return [...ranked]
    .sort((a, b) => b.loss - a.loss)
    .filter((s) => s.loss > minLoss)
    .slice(0, budget)
    .map((s) => s.node);
}
