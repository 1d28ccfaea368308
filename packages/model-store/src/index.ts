export {
  publish,
  stageVersion,
  type FinalizeOptions,
  type PublishOptions,
  type PublishResult,
  type StagedVersion,
  type StageOptions,
} from "./publish.js";
export type { PublishFile } from "./stage-files.js";
export { importHfModel, type ImportHfOptions, type ImportHfResult, type ModelLayout } from "./import-hf.js";
export { inspectHfModelFolder, type HfModelSummary } from "./hf-model.js";
// The model-id rule is engine-format's; re-exported where the store's users have always found it.
export { assertModelId } from "@trtforge/engine-format";
export { assertRevision, hfRepoFolderName, modelIdFromRepoFolder } from "./hf-layout.js";
export { resolveCurrent, type CurrentVersion, type ResolveCurrentOptions } from "./current.js";
export { resolveModelFolder, type ResolvedModel, type ResolveModelOptions } from "./resolve-model.js";
export { listAgents, listVersions, type AgentListing, type AgentSummary, type ListVersionsOptions, type VersionInfo } from "./versions.js";
export { buildFacts, describeAccuracyGate, formatShapes, type BuildFacts } from "./build-facts.js";
export { showVersion, type ShowOptions, type VersionDetails } from "./show.js";
export { assertVerified, verifyVersion, type VerifyOptions, type VerifyProblem, type VerifyReport } from "./verify.js";
export { rollback, type RollbackOptions, type RollbackResult } from "./rollback.js";
export { CURRENT_HISTORY_FILE, readCurrentHistory, type CurrentSwitch, type SwitchCause } from "./current-history.js";
export {
  promoteVersion,
  promoteWithEvidence,
  type CurrentChange,
  type PromoteOptions,
  type PromoteResult,
  type PromoteWithEvidenceOptions,
} from "./promote.js";
export {
  COMPARE_REPORT_FORMAT,
  DEFAULT_EVIDENCE_MAX_AGE_MS,
  EvidenceReportSchema,
  judgeEvidence,
  parseEvidenceMaxAge,
  promotionsOf,
  readEvidenceReport,
  type EvidenceChoice,
  type EvidenceReport,
  type PromotionRecord,
  type ReadEvidence,
} from "./evidence.js";
export { gc, type AgentGcReport, type GcOptions, type GcReport } from "./gc.js";
export { DEFAULT_KEEP, type RetentionPlan } from "./retention.js";
export type { StagingState } from "./staging.js";
export { computeChecksum } from "./compute-checksum.js";
export { taggedWriterLiveness, writerTag } from "@trtforge/fs-kit";
export { withWaitLock, type WaitLockOptions } from "@trtforge/fs-kit";
export { assertStoreName, defaultVersionName, isValidStoreName, MAX_NAME_LENGTH, STAGING_SUFFIX } from "./names.js";
export { compareCodePoints } from "@trtforge/fs-kit";
export { CURRENT_LINK, MANIFEST_NAME, VERSIONS_DIR } from "./paths.js";
export { ManifestSchema, readManifest, storeFields, type Manifest, type ManifestRead, type StoreFields } from "./manifest.js";
export { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_WAIT_MS, DEFAULT_STAGING_STALE_MS, resolveStoreRoot, type StoreOptions } from "./settings.js";
