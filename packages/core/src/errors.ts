/**
 * One error type for the whole tool. Every failure a user can cause or meet carries a stable
 * string code (safe to match in scripts and in `--json` output) and a distinct process exit code.
 * Exit codes 0, 1 and 2 keep their conventional meaning: success, "a check found a problem",
 * usage error.
 */
export const ERROR_CODES = {
  /** A check ran and found problems (verify-engine, check-only). */
  CHECK_FAILED: 1,
  /** Command line misuse: unknown option, missing argument, conflicting flags. */
  USAGE: 2,
  INVALID_PRECISION: 10,
  INVALID_LIMIT: 11,
  INVALID_NAME: 12,
  INVALID_ENGINE_NAME: 13,
  /** A build option is not one of its allowed values (typing, calibration algorithm, ...): the library's counterpart of a command-line choice. */
  INVALID_OPTION: 14,
  /** A sequence length longer than the model's position table or tokenizer allows. */
  SEQUENCE_TOO_LONG: 15,
  /** A library function was called with an argument it does not accept: a bug in the caller, not command-line misuse (USAGE stays with the CLIs). */
  INVALID_ARGUMENT: 16,
  FILE_NOT_FOUND: 20,
  NOT_A_FILE: 21,
  NOT_A_DIRECTORY: 22,
  FILE_UNREADABLE: 23,
  OUTPUT_EXISTS: 24,
  IO_FAILED: 25,
  /** No space (or quota) left where a file was being written: the work dir, an output folder. */
  DISK_FULL: 26,
  YAML_MALFORMED: 30,
  JSON_MALFORMED: 31,
  CONFIG_INVALID: 32,
  DUPLICATE_KEY: 33,
  UNKNOWN_ENGINE: 34,
  INVALID_DEVICE_ID: 35,
  METADATA_INVALID: 40,
  ENGINE_TRUNCATED: 41,
  ENGINE_UNRECOGNIZED: 42,
  HOST_MODE_UNAVAILABLE: 50,
  TOOLCHAIN_UNREADABLE: 51,
  PYTHON_UNAVAILABLE: 52,
  /** No ModelStore root was given and MODEL_STORE_ROOT is not set. */
  STORE_ROOT_UNSET: 58,
  /** A rollback or promote named the version that is already current. */
  STORE_ALREADY_CURRENT: 57,
  STORE_VERSION_EXISTS: 60,
  STORE_AGENT_NOT_FOUND: 61,
  STORE_VERSION_NOT_FOUND: 62,
  STORE_LOCKED: 63,
  STORE_CURRENT_DANGLING: 64,
  STORE_MANIFEST_INVALID: 65,
  STORE_CHECKSUM_MISMATCH: 66,
  STORE_READ_ONLY: 67,
  STORE_NO_PREVIOUS_VERSION: 68,
  STORE_NOT_A_MODEL: 69,
  INTERNAL: 70,
  // Triton model repository export (@trtforge/triton-export).
  /** export-triton's --out holds something other than this store's repository, and --force was not given. */
  TRITON_REPOSITORY_EXISTS: 71,
  /** --require-real was given and a version's engine is a marker (or unverifiable legacy engine), not a TensorRT plan. */
  TRITON_ENGINE_NOT_REAL: 72,
  /** export-triton found nothing to export (no agents in the store). */
  TRITON_NOTHING_TO_EXPORT: 73,
  /** The repository's trtforge-versions.json (the recorded version numbers) is unreadable or contradicts itself. */
  TRITON_VERSION_MAP_INVALID: 74,
  /** serve-engine could not bind its HTTP or metrics port. */
  SERVER_LISTEN_FAILED: 120,
  /** A serve-engine worker could not load its models, or kept exiting while starting. */
  SERVER_WORKER_FAILED: 121,
  EXPORT_NOT_A_MODEL: 80,
  EXPORT_TASK_UNSUPPORTED: 81,
  EXPORT_NEEDS_HUB: 82,
  PYTHON_VERSION_MISMATCH: 83,
  EXPORT_CHILD_FAILED: 84,
  EXPORT_TIMEOUT: 85,
  CANCELLED: 86,
  EXPORT_PROTOCOL: 87,
  VALIDATION_FAILED: 88,
  DATASET_INVALID: 89,
  TOKENIZER_INVALID: 90,
  CALIBRATION_STALE: 91,
  INPUT_MISMATCH: 92,
  ACCURACY_GATE_FAILED: 93,
  CALIBRATION_CACHE_INVALID: 94,
  /** The CPU-serving ONNX (fused, int8) is less accurate against fp32 than its gate allows. */
  CPU_SERVING_ACCURACY_FAILED: 95,
  /** The GPU-serving fp16 ONNX misses its accuracy gate against PyTorch fp32 (build-engine --gpu-serving). */
  GPU_SERVING_ACCURACY_FAILED: 117,
  TRT_UNAVAILABLE: 100,
  TRT_PARSE_FAILED: 101,
  TRT_BUILD_FAILED: 102,
  TRT_MODE_REMOVED: 103,
  PRECISION_NOT_APPLIED: 104,
  ENGINE_LOAD_FAILED: 105,
  TRT_RUN_FAILED: 106,
  ENGINE_DISPOSED: 107,
  /** The TensorRT-RTX Python bindings (python/requirements-trtrtx.lock) cannot be imported. */
  TRTRTX_UNAVAILABLE: 108,
  /** The chosen builder cannot build this precision (TensorRT-RTX and int8 Q/DQ: no measured path yet). */
  BUILDER_PRECISION_UNSUPPORTED: 109,
  // Serving runtime (@trtforge/runtime).
  /** requireTensorRT was set and the engine could not be loaded (the fallback reason says why). */
  TENSORRT_REQUIRED: 110,
  /** A store version lacks what serving needs (ONNX, tokenizer files, engine metadata). */
  MODEL_UNSERVABLE: 111,
  /** The batcher's bounded queue is full (the server answers 503). */
  OVERLOADED: 112,
  /** A request has more rows than the model's maximum batch. */
  BATCH_TOO_LARGE: 113,
  /** A text has more tokens than the model's profile allows and truncation was not asked for. */
  TEXT_TOO_LONG: 114,
  /** A loaded version failed its warm-up batch. */
  WARMUP_FAILED: 115,
  /** The batcher or model slot was closed; nothing more is served through it. */
  MODEL_CLOSED: 116,
  /** --require-gpu: the model would serve on the CPU on a host with a GPU (the reason is in details). */
  GPU_REQUIRED: 118,
  // Comparing versions before rollout (@trtforge/compare) and promoting with its evidence (@trtforge/model-store).
  /** compare-engines: the candidate is worse than the baseline beyond a threshold (the report is still written). */
  COMPARE_CANDIDATE_WORSE: 96,
  /** promote (or build-engine --promote) was given no compare report and no --without-evidence, for an agent that has a current version. */
  PROMOTION_EVIDENCE_REQUIRED: 97,
  /** The compare report given as evidence is unreadable, or is not for exactly this candidate against the version now current. */
  PROMOTION_EVIDENCE_MISMATCH: 98,
  /** The compare report given as evidence is older than the allowed age. */
  PROMOTION_EVIDENCE_STALE: 99,
  /** The compare report given as evidence records a failed verdict. */
  PROMOTION_EVIDENCE_FAILED: 119,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ForgeErrorOptions {
  /** What the user should do about it; printed after the message. */
  fix?: string;
  /** The file, flag or value the error is about. */
  input?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ForgeError extends Error {
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly input: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ForgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ForgeError";
    this.code = code;
    this.fix = options.fix;
    this.input = options.input;
    this.details = options.details;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      exit_code: this.exitCode,
      message: this.message,
      ...(this.input === undefined ? {} : { input: this.input }),
      ...(this.fix === undefined ? {} : { fix: this.fix }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isForgeError(value: unknown): value is ForgeError {
  return value instanceof ForgeError;
}

/** Wraps anything thrown into a ForgeError so the CLI prints one shape and exits with one code. */
export function toForgeError(value: unknown): ForgeError {
  if (value instanceof ForgeError) return value;
  const errno = (value as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOSPC" || errno === "EDQUOT") return diskFullError(value, (value as NodeJS.ErrnoException).path, "writing a file");
  const message = value instanceof Error ? value.message : String(value);
  return new ForgeError("INTERNAL", `internal error: ${message}`, {
    cause: value,
    fix: "this is a bug in trtforge; rerun with LOG_LEVEL=debug and report the output",
  });
}

/** A write that ran out of space: names where, and what frees space. */
function diskFullError(err: unknown, path: string | undefined, action: string): ForgeError {
  const where = path === undefined ? "" : ` ${path}`;
  return new ForgeError("DISK_FULL", `${action}${where}: no space left on the device (or the quota is used up)`, {
    ...(path === undefined ? {} : { input: path }),
    fix: "free space there: build-engine gc --max-size <size> removes finished stages from the work dir (or use --work-dir on a larger disk), model-store gc --keep N removes old versions",
    cause: err,
  });
}

/** Maps a Node fs error on `path` to a ForgeError that names the path and the fix. */
export function fsError(err: unknown, path: string, action: string): ForgeError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return diskFullError(err, path, action);
    case "ENOENT":
      return new ForgeError("FILE_NOT_FOUND", `${action}: ${path} does not exist`, {
        input: path,
        fix: "check the path",
        cause: err,
      });
    case "EISDIR":
      return new ForgeError("NOT_A_FILE", `${action}: ${path} is a directory, a file was expected`, {
        input: path,
        fix: "pass the path of a file",
        cause: err,
      });
    case "ENOTDIR":
      return new ForgeError("NOT_A_DIRECTORY", `${action}: a component of ${path} is not a directory`, {
        input: path,
        fix: "check the path",
        cause: err,
      });
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new ForgeError("FILE_UNREADABLE", `${action}: permission denied on ${path}`, {
        input: path,
        fix: "check the file's permissions or run as a user who may access it",
        cause: err,
      });
    default:
      return new ForgeError("IO_FAILED", `${action}: ${path}: ${(err as Error)?.message ?? String(err)}`, {
        input: path,
        cause: err,
      });
  }
}

/** JSON.parse that fails as JSON_MALFORMED naming the file it came from and what to do about it. */
export function parseJsonText(text: string, path: string, fix: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ForgeError("JSON_MALFORMED", `${path} is not valid JSON: ${(err as Error).message}`, { input: path, fix, cause: err });
  }
}
