export { compareVersions, DEFAULT_BATCH, DEFAULT_COUNT, type CompareOptions } from "./compare-versions.js";
export {
  classifierFigures,
  EXCERPT_CHARS,
  MAX_FLIPS_LISTED,
  type ArticleRef,
  type ClassifierFigures,
  type Flip,
} from "./classifier-figures.js";
export { embeddingFigures, nearestNeighbours, NEIGHBOURS, type EmbeddingFigures } from "./embedding-figures.js";
export {
  COMPARE_REPORT_FORMAT,
  reportMarkdown,
  reportStem,
  writeReport,
  type CompareReport,
  type SideReport,
  type TimingFigures,
} from "./report.js";
export {
  COMPARE_BACKENDS,
  openOptionsOf,
  parseBackend,
  parseOnnxVariant,
  parseVersionRef,
  type CompareBackend,
  type SideSpec,
} from "./sides.js";
export { checkThresholds, DEFAULT_THRESHOLDS, verdictOf, type OutputFigures, type Thresholds, type Verdict } from "./verdict.js";
export { percentile } from "./stats.js";
