/**
 * Metric names, one place. Meanings follow Triton's nv_inference_* (reference: docs/serving.md,
 * "Server" part) with Prometheus conventions: base units, `_total` on counters, histograms for
 * durations. Labels: `model` (agent), `version` (store version), `reason` (failure/fallback).
 */
export const METRIC = {
  requestSuccess: "trtforge_inference_request_success_total",
  requestFailure: "trtforge_inference_request_failure_total",
  requestDuration: "trtforge_inference_request_duration_seconds",
  pendingRequests: "trtforge_inference_pending_request_count",
  inferenceCount: "trtforge_inference_count_total",
  execCount: "trtforge_inference_exec_count_total",
  queueDuration: "trtforge_inference_queue_duration_seconds",
  computeDuration: "trtforge_inference_compute_duration_seconds",
  batchSize: "trtforge_inference_batch_size",
  workerRestarts: "trtforge_worker_restarts_total",
  workerReady: "trtforge_worker_ready",
  modelInfo: "trtforge_model_info",
  fallbacks: "trtforge_model_fallback_total",
  swapRefused: "trtforge_model_swap_refused_total",
  gpuMemoryUsed: "trtforge_gpu_memory_used_bytes",
  gpuMemoryTotal: "trtforge_gpu_memory_total_bytes",
  gpuUtilization: "trtforge_gpu_utilization_ratio",
  tokenizationDuration: "trtforge_inference_tokenization_duration_seconds",
  inputTokens: "trtforge_inference_input_tokens",
  lastInference: "trtforge_inference_last_timestamp_seconds",
  rolloutRequests: "trtforge_rollout_requests_total",
  rolloutCandidateDropped: "trtforge_rollout_candidate_dropped_total",
  shadowRequests: "trtforge_shadow_requests_total",
  shadowAgreement: "trtforge_shadow_agreement_total",
  shadowCosine: "trtforge_shadow_cosine",
  shadowConfidenceDelta: "trtforge_shadow_confidence_delta",
  /** Batches executed, by their size (label batch_size): the statistics extension's batch_stats. */
  batchExecutions: "trtforge_inference_batch_executions_total",
  /** Seconds batches of each size ran on their backend (label batch_size). */
  batchComputeSeconds: "trtforge_inference_batch_compute_seconds_total",
} as const;

/**
 * Triton's own series, same names, units (cumulative microseconds) and labels (`model`, `version`),
 * so a dashboard written for Triton reads this server unchanged. They sit beside the trtforge_*
 * histograms above, which give quantiles that Triton's cumulative counters cannot.
 */
export const TRITON_METRIC = {
  requestSuccess: "nv_inference_request_success",
  requestFailure: "nv_inference_request_failure",
  inferenceCount: "nv_inference_count",
  execCount: "nv_inference_exec_count",
  requestDuration: "nv_inference_request_duration_us",
  queueDuration: "nv_inference_queue_duration_us",
  computeInputDuration: "nv_inference_compute_input_duration_us",
  computeInferDuration: "nv_inference_compute_infer_duration_us",
  computeOutputDuration: "nv_inference_compute_output_duration_us",
  pendingRequests: "nv_inference_pending_request_count",
} as const;

/**
 * The `model` label of requests to a name this server does not serve: one fixed series, so a
 * client sending random names cannot grow /metrics. Agent names start with a letter or a digit
 * (model-store's rule), so no served model can carry it.
 */
export const UNKNOWN_MODEL_LABEL = "_unknown";

/** Tokens per text after tokenization (the model's profile allows up to 512 here in practice). */
export const TOKEN_BUCKETS = [8, 16, 32, 64, 128, 256, 512, 1024];

/** Seconds: from 0.5 ms (a warm GPU batch) to 10 s (a CPU batch under load). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Cosine of a shadow's embedding to the primary's: fine steps near 1, where int8 against fp32 lands. */
export const COSINE_BUCKETS = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1];
/** |Δ| of a classifier's winning-class probability between shadow and primary. */
export const CONFIDENCE_DELTA_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
