import { join } from "node:path";
import { sha256File, writeFileAtomic, type Logger, type OnProgress } from "@trtforge/core";
import { compareModels, type AccuracyFigure, type FullShape, type LabelDecision } from "@trtforge/accuracy";
import { splitArticles, type ArticleSet } from "@trtforge/articles";
import {
  calibrate,
  calibrationLengths,
  MIN_BAND_LENGTH,
  planW8A8,
  saveCalibration,
  trtCacheAlgorithmFor,
  writeTrtCache,
  type CalibrationAlgorithm,
  type TensorScope,
} from "@trtforge/calibration";
import { QDQ_ONNX, type Precision } from "@trtforge/engine-format";
import { convertToFp16, insertQdq, loadOnnxModel, onnxSha256, saveOnnxModel } from "@trtforge/onnx-graph";
import { loadTokenizer } from "@trtforge/tokenizer";
import { assertAccuracy } from "./accuracy-gate.js";
import { contentKey } from "./content-key.js";
import { selectInt8Activations } from "./int8-fallback.js";
import { runStage } from "./stage-dir.js";
import { throwIfCancelled } from "./cancel.js";

export interface PrecisionStageOptions {
  workRoot: string;
  precision: Precision;
  /** The validated fp32 export. */
  onnxPath: string;
  onnxSha256: string;
  /** The Hugging Face folder: its tokenizer feeds calibration and the accuracy runs. */
  modelDir: string;
  articles: ArticleSet;
  calibrationSamples: number;
  heldOut: number;
  batchSize: number;
  seqLen: number;
  seed: number;
  algorithm: CalibrationAlgorithm;
  percentile?: number | undefined;
  /** Which activations get scales: the Q/DQ sites (strong typing) or every float activation (a TensorRT 10 implicit-int8 cache). */
  tensorScope: TensorScope;
  /** Histogram every n-th activation value (see calibrate's sampleStride); undefined: its default. */
  sampleStride?: number | undefined;
  trtVersion: string;
  outputs: readonly string[];
  labelOutputs: readonly string[];
  /** How labelOutputs' logits become labels (the head's problem_type); undefined: argmax. */
  labelDecision?: LabelDecision | undefined;
  /** The build profile's shapes: the accuracy runs once at each of them too. */
  shapes: readonly FullShape[];
  minCosine: number | undefined;
  /** int8: the cosine on calibration articles below which the worst activations go back to float. */
  int8TargetCosine: number | undefined;
  /** int8 Q/DQ: the largest share of MatMuls the measured sensitivity may keep in float. */
  int8FloatShare: number;
  toolVersion: string;
  logger: Logger;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
}

export interface CalibrationSummary {
  algorithm: CalibrationAlgorithm;
  dataset_sha256: string;
  sample_count: number;
  cache_file: string;
  cache_sha256: string;
  record_file: string;
  qdq_onnx_file: string;
  qdq_onnx_sha256: string;
  unquantized_sites: number;
  /** Activations kept in float by the int8 selection, worst int8 error first. */
  float_activations: string[];
  int8_activations: number;
  selection_cosine: number | null;
  /** Sequence lengths calibrated at (the record reports each one's activation ranges). */
  lengths: number[];
  /** The Q/DQ model's W8A8 plan: SmoothQuant, attention-probability clips, the MatMuls kept in float. */
  w8a8: W8A8Summary;
  /** Calibration alone (the W8A8 plan's time is its own). */
  seconds: number;
  peak_rss_bytes: number;
}

export interface W8A8Summary {
  /** MatMul/Gemm/Conv sites of the model. */
  matmul_sites: number;
  /** MatMuls kept in float, the most sensitive first (at most float_share of matmul_sites). */
  float_matmuls: string[];
  float_share: number;
  /** Activations SmoothQuant migrated outlier channels out of (LayerNorm outputs feeding weight MatMuls). */
  smoothed_activations: string[];
  /** Attention-probability tensor → the amax factor chosen for it on calibration rows. */
  probability_clips: Record<string, number>;
  /** GELU output (FFN2 input) → its amax as a fraction of the calibrated max, chosen by int8 quantization MSE. */
  gelu_amax_fractions: Record<string, number>;
  /** The shape sensitivity and clips were measured at: a few rows at the profile's longest length. */
  probe_shape: { batch: number; seq_len: number };
  /** Shorter shapes every probe also ran at (its cosine the lowest over all). */
  guard_shapes: { batch: number; seq_len: number }[];
  seconds: number;
}

export interface PrecisionSummary {
  precision: Precision;
  /** The ONNX a strongly typed TensorRT build takes (Q/DQ for int8, fp16 ONNX for fp16). */
  strong_onnx_file: string;
  strong_onnx_sha256: string;
  calibration: CalibrationSummary | null;
  accuracy: AccuracyFigure[];
  held_out: number;
}

/**
 * Puts the precision into the ONNX itself, as TensorRT 11 requires (and TensorRT 10 accepts):
 * int8 → calibration on real articles, a TensorRT calibration cache and a Q/DQ model; fp16 → an
 * fp16 ONNX. Then both are measured against fp32 on held-out articles and gated by --min-cosine.
 */
/** Rows of the W8A8 plan's probes (sensitivity, clips): one ONNX Runtime run per MatMul at the longest length. */
const PROBE_ROWS = 2;
/** Part of the stage key: a change to how the plan is made must not reuse an older plan's result. */
const W8A8_VERSION = 2;

export type PrecisionStageResult = PrecisionSummary & { dir: string; reused: boolean };

export async function precisionStage(o: PrecisionStageOptions): Promise<PrecisionStageResult> {
  if (o.precision === "fp32") {
    return {
      precision: "fp32",
      strong_onnx_file: o.onnxPath,
      strong_onnx_sha256: o.onnxSha256,
      calibration: null,
      accuracy: [],
      held_out: 0,
      dir: "",
      reused: false,
    };
  }
  // Calibrated at the profile's lengths, so that ranges only long inputs reach get scales too.
  const lengths = calibrationLengths([o.seqLen, ...o.shapes.map((s) => s.seqLen)]);
  const probeShape: FullShape = { name: "w8a8-probe", batch: PROBE_ROWS, seqLen: Math.max(...lengths) };
  // The plan's choices must hold at short rows too (a one-token row's attention probability is exactly 1).
  const guardShapes: FullShape[] = [...new Set([MIN_BAND_LENGTH, ...o.shapes.map((s) => s.seqLen)])]
    .filter((seqLen) => seqLen < probeShape.seqLen)
    .sort((a, b) => a - b)
    .map((seqLen) => ({
      name: `w8a8-guard-${seqLen}`,
      batch: Math.min(PROBE_ROWS, ...o.shapes.filter((s) => s.seqLen === seqLen).map((s) => s.batch)),
      seqLen,
    }));
  const key = contentKey({
    stage: o.precision,
    onnx: o.onnxSha256,
    dataset: o.articles.sha256,
    ...(o.precision === "int8"
      ? {
          samples: o.calibrationSamples,
          algorithm: o.algorithm,
          percentile: o.percentile,
          scope: o.tensorScope,
          stride: o.sampleStride,
          batch: o.batchSize,
          trt: o.trtVersion,
          target: o.int8TargetCosine,
          lengths,
          floatShare: o.int8FloatShare,
          w8a8: W8A8_VERSION,
        }
      : {}),
    heldOut: o.heldOut,
    seqLen: o.seqLen,
    shapes: o.shapes,
    labels: { outputs: o.labelOutputs, decision: o.labelDecision },
    seed: o.seed,
    tool: o.toolVersion,
  });
  const result = await runStage<PrecisionSummary>(o.workRoot, o.precision, key, async (temp) => {
    // Only a fresh result needs the articles split and the tokenizer: a reused one has its figures.
    const calibrationSamples = o.precision === "int8" ? o.calibrationSamples : 0;
    const { sample, heldOut } = splitArticles(o.articles, {
      seed: o.seed,
      sampleSize: Math.max(calibrationSamples, 1),
      heldOutSize: o.heldOut,
    });
    const tokenizer = await loadTokenizer(o.modelDir);
    let calibration: CalibrationSummary | null = null;
    let strongFile: string;
    /** Set where the Q/DQ file was already hashed for its calibration record. */
    let strongSha256: string | undefined;
    if (o.precision === "int8") {
      const calibrated = await calibrate({
        onnxPath: o.onnxPath,
        tokenizer,
        articles: o.articles,
        samples: o.calibrationSamples,
        batchSize: o.batchSize,
        seqLen: o.seqLen,
        lengths,
        seed: o.seed,
        algorithm: o.algorithm,
        ...(o.percentile === undefined ? {} : { percentile: o.percentile }),
        tensors: o.tensorScope,
        ...(o.sampleStride === undefined ? {} : { sampleStride: o.sampleStride }),
        trtVersion: o.trtVersion,
        ...(o.signal ? { signal: o.signal } : {}),
        onBatch: (done, total) => o.onProgress?.({ stage: "calibrate", current: done, total }),
      });
      throwIfCancelled(o.signal, "after calibration");
      for (const warning of calibrated.warnings) o.logger.warn({ stage: "calibrate" }, warning);
      for (const note of calibrated.notes) o.logger.info({ stage: "calibrate" }, note);
      await saveCalibration(join(temp, "calibration.json"), calibrated.record);
      const fp32 = await loadOnnxModel(o.onnxPath);
      const calibrationTexts = sample.slice(0, 64).map((a) => a.text);
      // Only TensorRT 10's implicit int8 reads the cache: its float activations come from the error-ranked fallback.
      const selection = await selectInt8Activations({
        model: fp32,
        scales: calibrated.scales,
        quantError: calibrated.quantError,
        tokenizer,
        texts: calibrationTexts,
        outputs: o.outputs,
        target: o.tensorScope === "all-float" ? o.int8TargetCosine : undefined,
        maxFallbackShare: 0.25,
        seqLen: o.seqLen,
        batchSize: o.batchSize,
        logger: o.logger,
        signal: o.signal,
        onBatch: (done, total) => o.onProgress?.({ stage: "int8-select", current: done, total }),
      });
      // The cache leaves the float activations out too, so TensorRT 10's implicit int8 keeps them in fp16/fp32.
      await writeFileAtomic(
        join(temp, "calibration.cache"),
        writeTrtCache(selection.scales, { trtVersion: o.trtVersion, algorithm: trtCacheAlgorithmFor(o.algorithm) }),
      );
      throwIfCancelled(o.signal, "before the W8A8 plan");
      const planStarted = performance.now();
      const plan = await planW8A8({
        model: fp32,
        onnxPath: o.onnxPath,
        scales: calibrated.scales,
        tokenizer,
        texts: calibrationTexts,
        outputs: o.outputs,
        shape: probeShape,
        guardShapes,
        maxFloatShare: o.int8FloatShare,
        signal: o.signal,
        onStep: (done, total) => o.onProgress?.({ stage: "int8-sensitivity", current: done, total }),
      });
      throwIfCancelled(o.signal, "after the W8A8 plan");
      const w8a8: W8A8Summary = {
        matmul_sites: plan.totalSites,
        float_matmuls: [...plan.floatNodes],
        float_share: o.int8FloatShare,
        smoothed_activations: plan.smoothed.map((x) => x.source),
        probability_clips: Object.fromEntries(plan.probabilityClips),
        gelu_amax_fractions: Object.fromEntries(plan.geluAmaxFractions),
        probe_shape: { batch: probeShape.batch, seq_len: probeShape.seqLen },
        guard_shapes: guardShapes.map((g) => ({ batch: g.batch, seq_len: g.seqLen })),
        seconds: (performance.now() - planStarted) / 1000,
      };
      o.logger.info(
        { float_matmuls: w8a8.float_matmuls.length, matmul_sites: w8a8.matmul_sites, smoothed: w8a8.smoothed_activations.length },
        "int8 W8A8 plan: SmoothQuant, probability clips and the most sensitive MatMuls in float",
      );
      const qdq = insertQdq(plan.model, { activationScales: plan.scales, floatNodes: plan.floatNodes });
      if (qdq.unquantizedSites.length > 0)
        o.logger.info(
          { sites: qdq.unquantizedSites.length, missing: qdq.missingScales.slice(0, 5) },
          "MatMul/Gemm sites kept in float (by the W8A8 plan or for want of a scale)",
        );
      await saveOnnxModel(qdq.model, join(temp, QDQ_ONNX));
      strongFile = QDQ_ONNX;
      strongSha256 = await onnxSha256(join(temp, strongFile));
      calibration = {
        algorithm: o.algorithm,
        dataset_sha256: o.articles.sha256,
        sample_count: calibrated.record.samples,
        cache_file: "calibration.cache",
        cache_sha256: await sha256File(join(temp, "calibration.cache")),
        record_file: "calibration.json",
        qdq_onnx_file: strongFile,
        qdq_onnx_sha256: strongSha256,
        unquantized_sites: qdq.unquantizedSites.length,
        float_activations: selection.float,
        int8_activations: selection.quantizedActivations,
        selection_cosine: selection.cosine,
        lengths,
        w8a8,
        seconds: calibrated.record.seconds,
        peak_rss_bytes: calibrated.record.peak_rss_bytes,
      };
    } else {
      await saveOnnxModel(convertToFp16(await loadOnnxModel(o.onnxPath)), join(temp, "model.fp16.onnx"));
      strongFile = "model.fp16.onnx";
    }
    throwIfCancelled(o.signal, `before the ${o.precision} accuracy run`);
    const accuracy = await compareModels({
      reference: o.onnxPath,
      candidate: join(temp, strongFile),
      referenceLabel: "fp32-onnx",
      candidateLabel: o.precision === "int8" ? "int8-qdq-onnx" : "fp16-onnx",
      tokenizer,
      texts: heldOut.map((a) => a.text),
      outputs: o.outputs,
      labelOutputs: o.labelOutputs,
      ...(o.labelDecision ? { labelDecision: o.labelDecision } : {}),
      shapes: o.shapes,
      seqLen: o.seqLen,
      batchSize: o.batchSize,
      signal: o.signal,
      onBatch: (done, total) => o.onProgress?.({ stage: "accuracy", current: done, total }),
    });
    throwIfCancelled(o.signal, `after the ${o.precision} accuracy run`);
    await writeFileAtomic(join(temp, "accuracy.json"), `${JSON.stringify(accuracy, null, 2)}\n`);
    return {
      precision: o.precision,
      strong_onnx_file: strongFile,
      strong_onnx_sha256: strongSha256 ?? (await onnxSha256(join(temp, strongFile))),
      calibration,
      accuracy,
      held_out: heldOut.length,
    };
  });
  // The gate runs on reuse too: a stricter --min-cosine must still be able to fail a cached result.
  assertAccuracy(result.summary.accuracy, o.minCosine, o.precision === "int8" ? "the int8 Q/DQ model" : "the fp16 model");
  return { ...result.summary, strong_onnx_file: join(result.dir, result.summary.strong_onnx_file), dir: result.dir, reused: result.reused };
}
