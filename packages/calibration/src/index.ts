export { AbsHistogram, DEFAULT_BINS, FILL_MAGNITUDE, rebinCounts, type AbsHistogramState } from "./abs-histogram.js";
export { entropySearch, ENTROPY_START_BIN, INT8_LEVELS, type EntropySearchOptions, type EntropySearchResult } from "./entropy.js";
export {
  amaxOf,
  mseAmax,
  relativeQuantError,
  CALIBRATION_ALGORITHMS,
  DEFAULT_PERCENTILE,
  entropyAmax,
  INT8_MAX,
  percentileAmax,
  scaleOfAmax,
  type AmaxOptions,
  type CalibrationAlgorithm,
} from "./amax.js";
export { trtVersionDigits, trtVersionOfDigits } from "./trt-version.js";
export {
  hexToScale,
  parseTrtCache,
  scaleToHex,
  TRT_CACHE_ALGORITHMS,
  trtCacheAlgorithmFor,
  writeTrtCache,
  type TrtCache,
  type TrtCacheAlgorithm,
} from "./trt-cache.js";
export { calibrationTensors, TENSOR_SCOPES, type CalibrationTensors, type DerivedScale, type TensorScope } from "./calibration-tensors.js";
export { batchFeeds, checkModelInputs, rowsOf, runtimeInputs } from "./model-inputs.js";
export {
  CALIBRATION_SCHEMA_VERSION,
  CalibrationRecordSchema,
  loadCalibration,
  readCalibration,
  saveCalibration,
  scalesOf,
  trtCacheOfRecord,
  type CalibrationKeys,
  type CalibrationRecord,
} from "./calibration-record.js";
export { importTrtCache, type ImportedTrtCache, type ImportTrtCacheOptions } from "./import-trt-cache.js";
export {
  calibrate,
  DEFAULT_BATCH_SIZE,
  DEFAULT_ROWS_PER_RUN,
  DEFAULT_SAMPLE_STRIDE,
  DEFAULT_SEQ_LEN,
  type CalibrateOptions,
  type CalibrationResult,
} from "./calibrate.js";
export { peakRssBytes } from "./process-stats.js";
export { tensorsThatMayHoldFills } from "./fill-tensors.js";
export {
  calibrationLengths,
  checkLengths,
  longOnlyRanges,
  LONG_ONLY_FACTOR,
  MIN_BAND_LENGTH,
  rowsPerBand,
  type LengthBand,
  type LongOnlyRange,
} from "./length-bands.js";
export {
  chooseFloatSites,
  MAX_FLOAT_SHARE,
  measureSensitivity,
  type MeasureSensitivityOptions,
  type SiteSensitivity,
} from "./sensitivity.js";
export {
  activationSamples,
  channelRanges,
  DEFAULT_SMOOTHING_ALPHA,
  geluMatMulInputs,
  layerNormMatMulInputs,
  MSE_SAMPLE_PER_RUN,
  MSE_SAMPLE_ROWS,
  planW8A8,
  PROBABILITY_CLIPS,
  probabilityTensors,
  type W8A8Plan,
  type W8A8PlanOptions,
} from "./w8a8-plan.js";
export { MSE_AMAX_FRACTIONS, mseChosenAmax, quantizationMse } from "./mse-amax.js";
export { ShapeProbe, type ShapeProbeOptions } from "./shape-probe.js";
