import { ForgeError } from "@trtforge/core";
import { fillShape } from "@trtforge/accuracy";
import { splitArticles, type ArticleSet } from "@trtforge/articles";
import { loadOnnxModel, onnxSha256 } from "@trtforge/onnx-graph";
import type { ModelTokenizer } from "@trtforge/tokenizer";
import { resolveOnnxruntimeNodeVersion } from "@trtforge/toolchain";
import { AbsHistogram, DEFAULT_BINS, type AbsHistogramState } from "./abs-histogram.js";
import { createActivationReader } from "./activation-reader.js";
import { amaxOf, relativeQuantError, checkPercentile, DEFAULT_PERCENTILE, scaleOfAmax, type CalibrationAlgorithm } from "./amax.js";
import { CALIBRATION_SCHEMA_VERSION, type CalibrationRecord } from "./calibration-record.js";
import { calibrationTensors, type TensorScope } from "./calibration-tensors.js";
import { ENTROPY_START_BIN } from "./entropy.js";
import { batchFeeds, checkModelInputs, rowsOf } from "./model-inputs.js";
import { checkLengths, longOnlyRanges, rowsPerBand, type LengthBand } from "./length-bands.js";
import { peakRssBytes } from "./process-stats.js";
import { trtCacheAlgorithmFor } from "./trt-cache.js";
import { trtVersionDigits } from "./trt-version.js";

export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_SEQ_LEN = 128;
/**
 * Rows ONNX Runtime runs at once. Every exposed activation of a run is copied out at the same
 * time (MiniLM at sequence 128: 22 MB per row over ~190 tensors), so memory follows the rows per
 * run, not the batch size; and on the project's 2-core machines 8 rows per run were 2.5× faster
 * per row than 32 (first-touch page faults on the copied-out buffers dominate larger runs). Rows
 * are independent in a transformer encoder, so the histograms are the same for any split.
 */
export const DEFAULT_ROWS_PER_RUN = 8;
/**
 * Every 31st value of each activation is histogrammed; the max is computed over every value inside
 * ONNX Runtime, so max calibration and the histogram's range are exact. 31 is prime (no hidden
 * size, head count or sequence length is a multiple of it in the models this tool targets) and
 * longer than a 64-byte cache line of floats. With 512 articles at sequence 128 that still
 * histograms over 200,000 values per tensor of the smallest kind, 1.6 million of a 384-wide
 * hidden state. See docs/calibration.md for the effect on the scales.
 */
export const DEFAULT_SAMPLE_STRIDE = 31;

export interface CalibrateOptions {
  onnxPath: string;
  /** The model's tokenizer (loadTokenizer on the Hugging Face folder the ONNX came from). */
  tokenizer: ModelTokenizer;
  /** Real articles (readArticles); a seeded sample of `samples` of them is used. */
  articles: ArticleSet;
  samples: number;
  batchSize?: number;
  /** Rows per ONNX Runtime run inside a batch (default 8, at most batchSize); see DEFAULT_ROWS_PER_RUN. */
  rowsPerRun?: number;
  /** Every article is truncated or padded to this many tokens, the length the engine will run at. */
  seqLen?: number;
  /**
   * Calibrate at each of these sequence lengths instead of `seqLen` (the build profile's lengths up
   * to its maximum): the sample is shared out over them, and every row at length L holds L real
   * tokens, consecutive articles joined where one is shorter (as the accuracy shapes are filled),
   * so that ranges only long inputs reach are calibrated. The record reports each length's ranges.
   */
  lengths?: readonly number[];
  seed?: number;
  algorithm?: CalibrationAlgorithm;
  /** For "percentile" (default 99.99). */
  percentile?: number;
  bins?: number;
  /** Default "all-float": every float activation, as a TensorRT implicit-INT8 cache lists them. */
  tensors?: TensorScope;
  /** The TensorRT the cache is for, e.g. "10.16.0" (its header encodes the version). */
  trtVersion: string;
  /** Called after every batch with batches done and the number of batches. */
  onBatch?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Derive the amax of copies and constant multiples of a calibrated tensor from it instead of
   * fetching them (default true; see calibrationTensors). False fetches every tensor.
   */
  deriveScales?: boolean;
  /** ONNX Runtime intra-op threads; 0 (default) lets it use the machine's cores. */
  intraOpThreads?: number;
  /**
   * Histogram every n-th value of each activation (default DEFAULT_SAMPLE_STRIDE); 1 histograms
   * every value, as TensorRT does, at about twice the time. The max is exact either way.
   */
  sampleStride?: number;
}

export interface CalibrationResult {
  /** What calibration.json holds (saveCalibration). */
  record: CalibrationRecord;
  /** Tensor → scale, for insertQdq and writeTrtCache. */
  scales: Map<string, number>;
  /** Tensor → amax (scale × 127) before float32 rounding. */
  amax: Map<string, number>;
  /** Tensor → expected int8 error relative to its mean square (relativeQuantError). */
  quantError: Map<string, number>;
  /** Tensors left without a scale, in words: worth an operator's look. */
  warnings: string[];
  /**
   * What calibration did as designed, in words: attention masks' fill values kept out of the
   * histograms (every BERT has them). Information, not a warning.
   */
  notes: string[];
  /** Bytes of histogram state: depends on tensors and bins, never on the number of samples. */
  histogramBytes: number;
  /** Tensors ONNX Runtime output per batch (the others are derived from them, see calibrationTensors). */
  fetchedTensors: number;
  /** Tensors whose in-graph max leaves out NaN, infinities and mask fills: predicted from the graph or met in a run (sampled calibration only). */
  maskedTensors: string[];
  /** Sessions rebuilt because a run met fills the graph did not predict (see tensorsThatMayHoldFills). */
  sessionRebuilds: number;
  /** Per sequence length calibrated at: its rows and each fetched tensor's largest |x| there (one band without `lengths`). */
  lengthBands: LengthBand[];
  /** Where the time went: ONNX Runtime runs (copy-out of the activations included), histogram updates, threshold searches. */
  timing: { runSeconds: number; histogramSeconds: number; thresholdSeconds: number };
}

function positiveInteger(value: number, name: string, fix: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ForgeError("INVALID_LIMIT", `${name} must be a positive integer, got ${value}`, { input: name, fix });
  }
  return value;
}

interface RunSettings {
  batchSize: number;
  rowsPerRun: number;
  seqLen: number;
  seed: number;
  algorithm: CalibrationAlgorithm;
  percentile: number | undefined;
  bins: number;
  scope: TensorScope;
  sampleStride: number;
}

function settingsOf(options: CalibrateOptions): RunSettings {
  const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, "batchSize", `use a batch size such as ${DEFAULT_BATCH_SIZE}`);
  const rowsPerRun = Math.min(
    batchSize,
    positiveInteger(options.rowsPerRun ?? DEFAULT_ROWS_PER_RUN, "rowsPerRun", `use ${DEFAULT_ROWS_PER_RUN}`),
  );
  const seqLen = positiveInteger(
    options.seqLen ?? DEFAULT_SEQ_LEN,
    "seqLen",
    `use the engine's sequence length, such as ${DEFAULT_SEQ_LEN}`,
  );
  positiveInteger(options.samples, "samples", "calibrate on a few hundred articles, e.g. 512");
  const bins = positiveInteger(options.bins ?? DEFAULT_BINS, "bins", `use ${DEFAULT_BINS} bins, TensorRT's number`);
  const algorithm = options.algorithm ?? "entropy";
  if (algorithm === "entropy" && bins <= ENTROPY_START_BIN) {
    throw new ForgeError("INVALID_LIMIT", `entropy calibration needs more than ${ENTROPY_START_BIN} bins, got ${bins}`, {
      input: "bins",
      fix: `use ${DEFAULT_BINS} bins, TensorRT's number`,
    });
  }
  const percentile = algorithm === "percentile" ? (options.percentile ?? DEFAULT_PERCENTILE) : undefined;
  if (percentile !== undefined) checkPercentile(percentile);
  if (options.samples < batchSize) {
    throw new ForgeError("INVALID_LIMIT", `${options.samples} sample(s) do not fill one batch of ${batchSize}`, {
      input: "samples",
      fix: "ask for at least one batch of samples, or a smaller batch size",
    });
  }
  // Checked here so that a bad version fails before minutes of calibration, not when the cache is written.
  trtVersionDigits(options.trtVersion);
  const sampleStride = positiveInteger(
    options.sampleStride ?? DEFAULT_SAMPLE_STRIDE,
    "sampleStride",
    `use 1 (every value) or ${DEFAULT_SAMPLE_STRIDE}`,
  );
  return {
    batchSize,
    rowsPerRun,
    seqLen,
    seed: options.seed ?? 0,
    algorithm,
    percentile,
    bins,
    scope: options.tensors ?? "all-float",
    sampleStride,
  };
}

interface PlannedBatch {
  seqLen: number;
  texts: string[];
  /** Rows of seqLen real tokens, consecutive articles joined (fillShape), rather than one article padded. */
  joined: boolean;
}

/**
 * The batches of a calibration: without lengths, the sample in batches at seqLen, each article
 * padded or truncated; with lengths, the sample shared out over them in order (rowsPerBand), each
 * band's articles in batches whose rows are joined up to the band's length.
 */
function planBatches(texts: readonly string[], settings: RunSettings, lengths: readonly number[] | undefined): PlannedBatch[] {
  const inBatches = (slice: readonly string[], seqLen: number, joined: boolean): PlannedBatch[] =>
    Array.from({ length: Math.ceil(slice.length / settings.batchSize) }, (_, b) => ({
      seqLen,
      joined,
      texts: slice.slice(b * settings.batchSize, (b + 1) * settings.batchSize),
    }));
  if (lengths === undefined) return inBatches(texts, settings.seqLen, false);
  const shares = rowsPerBand(texts.length, lengths.length);
  let from = 0;
  return lengths.flatMap((seqLen, i) => {
    const slice = texts.slice(from, from + shares[i]!);
    from += shares[i]!;
    return inBatches(slice, seqLen, true);
  });
}

/** Fewer articles than one batch; splitArticles refuses a sample larger than the set, with counts. */
function checkDataset(set: ArticleSet, batchSize: number): void {
  if (set.articles.length < batchSize) {
    throw new ForgeError(
      "DATASET_INVALID",
      `${set.source} has ${set.articles.length} usable article(s) (${set.badRows.count} bad row(s)), fewer than one batch of ${batchSize}`,
      {
        input: set.source,
        fix: "give a larger dataset or a smaller batch size",
      },
    );
  }
}

/**
 * Calibrates an ONNX model on real articles with onnxruntime-node. Each batch is tokenized and
 * run `rowsPerRun` rows at a time; for every calibrated activation, ONNX Runtime computes its exact
 * max |x| in the graph and hands out every `sampleStride`-th value, which goes into the tensor's
 * fixed-size |x| histogram (see createActivationReader). Memory holds one run's sampled
 * activations plus the histograms, whatever the number of samples or the batch size. Scales come
 * from the chosen algorithm (TensorRT's entropy by default); tensors with no usable range are
 * listed as skipped.
 */
export async function calibrate(options: CalibrateOptions): Promise<CalibrationResult> {
  const started = performance.now();
  const settings = settingsOf(options);
  checkDataset(options.articles, settings.batchSize);
  const { sample } = splitArticles(options.articles, { seed: settings.seed, sampleSize: options.samples });

  const model = await loadOnnxModel(options.onnxPath);
  const inputs = checkModelInputs(model, options.tokenizer, options.onnxPath);
  const maxLength = options.tokenizer.modelMaxLength;
  if (maxLength !== undefined && settings.seqLen > maxLength) {
    // Past the position embeddings ONNX Runtime would fail deep inside a Gather.
    throw new ForgeError(
      "INVALID_LIMIT",
      `seqLen ${settings.seqLen} is longer than the ${maxLength} tokens the model of ${options.tokenizer.modelDir} takes`,
      {
        input: "seqLen",
        fix: `use a sequence length of at most ${maxLength}`,
      },
    );
  }
  const hash = await onnxSha256(options.onnxPath);
  const selection = calibrationTensors(model, settings.scope, { derive: options.deriveScales ?? true });
  const histograms = new Map(selection.fetched.map((name) => [name, new AbsHistogram(settings.bins)]));

  const reader = await createActivationReader(model, selection.fetched, {
    sampleStride: settings.sampleStride,
    intraOpThreads: options.intraOpThreads ?? 0,
  });
  // Without lengths: one band at seqLen, each article alone, padded (the earlier behaviour).
  const lengths = options.lengths === undefined ? undefined : checkLengths(options.lengths, maxLength, options.tokenizer.modelDir);
  const plan = planBatches(
    sample.map((a) => a.text),
    settings,
    lengths,
  );
  const bandMax = new Map<number, Map<string, number>>((lengths ?? [settings.seqLen]).map((l) => [l, new Map()]));
  const bandRows = new Map<number, number>();
  const batches = plan.length;
  let runMs = 0;
  let histogramMs = 0;
  try {
    for (const [b, batch] of plan.entries()) {
      if (options.signal?.aborted) throw new ForgeError("CANCELLED", `calibration cancelled after ${b} of ${batches} batches`);
      const encoded = batch.joined
        ? fillShape(options.tokenizer, batch.texts, {
            name: `calibration-${batch.seqLen}`,
            batch: batch.texts.length,
            seqLen: batch.seqLen,
          })
        : options.tokenizer.encodeBatch(batch.texts, { maxLength: batch.seqLen, padding: "max_length", truncation: true });
      const maxima = bandMax.get(batch.seqLen)!;
      bandRows.set(batch.seqLen, (bandRows.get(batch.seqLen) ?? 0) + encoded.batchSize);
      for (let row = 0; row < encoded.batchSize; row += settings.rowsPerRun) {
        const rows = Math.min(settings.rowsPerRun, encoded.batchSize - row);
        const timing = await reader.run(batchFeeds(rowsOf(encoded, row, rows), inputs), histograms);
        runMs += timing.runMs;
        histogramMs += timing.histogramMs;
        for (const [tensor, value] of timing.maxAbs) if (value > (maxima.get(tensor) ?? 0)) maxima.set(tensor, value);
      }
      options.onBatch?.(b + 1, batches);
    }
  } finally {
    await reader.release();
  }
  const lengthBands: LengthBand[] = [...bandMax].map(([seqLen, maxima]) => ({
    seq_len: seqLen,
    rows: bandRows.get(seqLen) ?? 0,
    amax: Object.fromEntries(selection.fetched.map((t) => [t, maxima.get(t) ?? 0])),
  }));

  const thresholdStarted = performance.now();
  const scales = new Map<string, number>();
  const amax = new Map<string, number>();
  const quantError = new Map<string, number>();
  const skipped: CalibrationRecord["skipped"] = [];
  const excluded: CalibrationRecord["excluded_values"] = [];
  // Once per histogram: tensors derived from another (copies, constant multiples) scale its amax and share its error.
  const bySource = new Map<string, { state: AbsHistogramState; amax: number; quantError: number }>();
  const thresholdsOf = (source: string) => {
    let known = bySource.get(source);
    if (known === undefined) {
      const state = histograms.get(source)!.snapshot();
      const sourceAmax = amaxOf(state, { algorithm: settings.algorithm, percentile: settings.percentile });
      known = { state, amax: sourceAmax, quantError: relativeQuantError(state, sourceAmax) };
      bySource.set(source, known);
    }
    return known;
  };
  for (const tensor of selection.tensors) {
    const { source, factor } = selection.derivedFrom.get(tensor)!;
    const { state, amax: sourceAmax, quantError: sourceError } = thresholdsOf(source);
    if (source === tensor && (state.fills > 0 || state.nan > 0))
      excluded.push({ tensor, fills: state.fills, nan: state.nan, counted: state.counted });
    const value = sourceAmax * factor;
    const scale = scaleOfAmax(value);
    if (value > 0 && Number.isFinite(value) && Math.fround(scale) > 0) {
      amax.set(tensor, value);
      scales.set(tensor, scale);
      quantError.set(tensor, sourceError);
    } else {
      const why =
        state.counted === 0
          ? "no finite value"
          : state.maxAbs === 0
            ? "every finite value is 0"
            : `amax ${value} gives no usable float32 scale`;
      const kept = state.fills + state.nan > 0 ? ` (${state.fills} mask fill(s) and ${state.nan} NaN kept out)` : "";
      skipped.push({ tensor, reason: `${why}${kept}` });
    }
  }
  const thresholdSeconds = (performance.now() - thresholdStarted) / 1000;
  const warnings = skipped.map((s) => `${s.tensor}: no scale: ${s.reason}; TensorRT keeps its layers out of int8`);
  const notes: string[] = [];
  // One line for all of them: a BERT has a masked score tensor per layer, and a line each buried the warnings.
  if (excluded.length > 0) {
    const counted = reader.sampleStride === 1 ? "values" : `sampled values (1 in ${reader.sampleStride})`;
    notes.push(
      `mask fills (±inf or |x| ≥ 1e30) and NaN kept out of the histograms of ${excluded.length} tensor(s): ` +
        excluded.map((e) => `${e.tensor} (${e.fills} fill(s), ${e.nan} NaN, ${e.counted} ${counted} counted)`).join(", "),
    );
  }

  const longOnly = longOnlyRanges(lengthBands);
  if (longOnly.length > 0) {
    notes.push(
      `${longOnly.length} tensor(s) reach a wider range at ${lengthBands.at(-1)!.seq_len} tokens than at any shorter length calibrated: ` +
        longOnly
          .slice(0, 8)
          .map((r) => `${r.tensor} ${r.longest.toPrecision(4)} vs ${r.shorter.toPrecision(4)} (×${r.factor.toFixed(2)})`)
          .join(", "),
    );
  }

  const record: CalibrationRecord = {
    schema_version: CALIBRATION_SCHEMA_VERSION,
    onnx_sha256: hash,
    dataset_sha256: options.articles.sha256,
    dataset: options.articles.source,
    bad_rows: options.articles.badRows,
    algorithm: settings.algorithm,
    ...(settings.percentile === undefined ? {} : { percentile: settings.percentile }),
    trt_cache_algorithm: trtCacheAlgorithmFor(settings.algorithm),
    tensor_scope: settings.scope,
    samples: sample.length,
    seed: settings.seed,
    batch_size: settings.batchSize,
    rows_per_run: settings.rowsPerRun,
    seq_len: lengths === undefined ? settings.seqLen : lengths.at(-1)!,
    ...(lengths === undefined ? {} : { lengths }),
    length_bands: lengthBands,
    bins: settings.bins,
    sample_stride: reader.sampleStride,
    trt_version: options.trtVersion.trim(),
    scales: Object.fromEntries(scales),
    skipped,
    excluded_values: excluded,
    seconds: (performance.now() - started) / 1000,
    peak_rss_bytes: peakRssBytes(),
    // This package runs onnxruntime-node, so it resolves; the record keeps its schema either way.
    onnxruntime_node: resolveOnnxruntimeNodeVersion() ?? "unknown",
    created_at: new Date().toISOString(),
  };
  const histogramBytes = [...histograms.values()].reduce((sum, h) => sum + h.stateBytes, 0);
  const timing = { runSeconds: runMs / 1000, histogramSeconds: histogramMs / 1000, thresholdSeconds };
  return {
    record,
    scales,
    amax,
    quantError,
    warnings,
    notes,
    histogramBytes,
    fetchedTensors: selection.fetched.length,
    maskedTensors: [...reader.maskedTensors],
    sessionRebuilds: reader.rebuilds,
    lengthBands,
    timing,
  };
}
