/** Stable codes of what verification can find wrong with an engine; scripts match on these. */
export const PROBLEM_CODES = [
  "SIDECAR_MISSING",
  "SIDECAR_MALFORMED",
  "SIDECAR_INVALID",
  "LEGACY_METADATA",
  "NAME_INVALID",
  "NAME_MISMATCH",
  "METADATA_INCONSISTENT",
  "CHECKSUM_MISMATCH",
  "SIDECAR_CHANGED",
  "ENGINE_CHANGED",
  "PROFILE_MISMATCH",
  "ENGINE_TRUNCATED",
  "ENGINE_UNRECOGNIZED",
  "LEGACY_MARKER",
  "KIND_MISMATCH",
  "MARKER_MISMATCH",
  "PLAN_VERSION_MISMATCH",
  "PLAN_LIBRARY_MISMATCH",
  "PLAN_TARGETS_MISMATCH",
  "MARKER_NOT_REAL",
  "RUNTIME_TRT_MISMATCH",
  "RUNTIME_CC_MISMATCH",
  "RUNTIME_CC_UNKNOWN",
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface Problem {
  code: ProblemCode;
  message: string;
}

export type CheckStatus = "pass" | "fail" | "skip";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}
