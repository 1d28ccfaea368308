import { Registry, type Counter } from "prom-client";
import type { BatchReport, ModelEvidence } from "@trtforge/runtime";
import { metricsIn } from "./register.js";
import { BATCH_SIZE_BUCKETS, DURATION_BUCKETS, METRIC, TOKEN_BUCKETS, TRITON_METRIC } from "./names.js";

/** What the protocol routes measured of one infer request that reached a model (request_metrics). */
export interface RequestTiming {
  agent: string;
  version: string;
  /** Decoding the body and tokenizing the text (Triton's compute_input). */
  computeInputSeconds: number;
  /** Tokenization alone (text inputs); undefined for token inputs. */
  tokenizeSeconds: number | undefined;
  /** Tokens per row, padding excluded. */
  rowTokens: number[];
  /** Turning outputs into the response body (Triton's compute_output). */
  computeOutputSeconds: number;
}

const US = 1e6;

/**
 * What a process that runs models measures: batches (from the runtime's BatchReport) and which
 * version serves on which backend. Kept in its own registry so the supervisor can aggregate the
 * workers' registries with its own.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly metric = metricsIn(this.registry);
  private readonly inferenceCount = this.metric.counter(
    METRIC.inferenceCount,
    "Inferences performed: rows (batch elements), as Triton's nv_inference_count",
    ["model", "version"],
  );
  private readonly execCount = this.metric.counter(METRIC.execCount, "Batches executed, as Triton's nv_inference_exec_count", [
    "model",
    "version",
  ]);
  private readonly queueDuration = this.metric.histogram(
    METRIC.queueDuration,
    "Seconds a request waited in the batching queue before its batch started",
    ["model", "version"],
    DURATION_BUCKETS,
  );
  private readonly computeDuration = this.metric.histogram(
    METRIC.computeDuration,
    "Seconds one batch ran on its backend",
    ["model", "version", "backend"],
    DURATION_BUCKETS,
  );
  private readonly batchSize = this.metric.histogram(METRIC.batchSize, "Rows per executed batch", ["model", "version"], BATCH_SIZE_BUCKETS);
  private readonly modelInfo = this.metric.gauge(
    METRIC.modelInfo,
    "1 for the version serving each model, with its backend, precision, fallback reason and (TensorRT) GPU",
    ["model", "version", "backend", "precision", "fallback_reason", "gpu_uuid"],
    "max",
  );
  private readonly fallbacks = this.metric.counter(METRIC.fallbacks, "Versions loaded on ONNX Runtime instead of their engine, by reason", [
    "model",
    "version",
    "reason",
  ]);
  private readonly swapsRefused = this.metric.counter(
    METRIC.swapRefused,
    "New versions that failed to open, verify or warm up and were not served (the old one kept serving)",
    ["model"],
  );
  private readonly tokenization = this.metric.histogram(
    METRIC.tokenizationDuration,
    "Seconds spent tokenizing one request's texts (text-embeddings-inference's te_request_tokenization_duration)",
    ["model", "version"],
    DURATION_BUCKETS,
  );
  private readonly inputTokens = this.metric.histogram(
    METRIC.inputTokens,
    "Tokens per input row, padding excluded (text-embeddings-inference's te_request_input_length)",
    ["model", "version"],
    TOKEN_BUCKETS,
  );
  // batch_size takes at most the profile's maximum batch values per version: bounded.
  private readonly batchExecutions = this.metric.counter(
    METRIC.batchExecutions,
    "Batches executed, by rows per batch (the statistics extension's batch_stats)",
    ["model", "version", "batch_size"],
  );
  private readonly batchComputeSeconds = this.metric.counter(
    METRIC.batchComputeSeconds,
    "Seconds batches ran on their backend, by rows per batch (the statistics extension's batch_stats)",
    ["model", "version", "batch_size"],
  );
  private readonly triton = {
    inferenceCount: this.tritonCounter(TRITON_METRIC.inferenceCount, "Number of inferences performed (batch elements)"),
    execCount: this.tritonCounter(TRITON_METRIC.execCount, "Number of model executions performed (batches)"),
    queue: this.tritonCounter(TRITON_METRIC.queueDuration, "Cumulative inference queuing duration in microseconds"),
    computeInput: this.tritonCounter(TRITON_METRIC.computeInputDuration, "Cumulative compute input duration in microseconds"),
    computeInfer: this.tritonCounter(TRITON_METRIC.computeInferDuration, "Cumulative compute inference duration in microseconds"),
    computeOutput: this.tritonCounter(TRITON_METRIC.computeOutputDuration, "Cumulative inference compute output duration in microseconds"),
  };
  private readonly serving = new Map<string, ModelEvidence>();

  private tritonCounter(name: string, help: string): Counter {
    return this.metric.counter(name, help, ["model", "version"]);
  }

  observeBatch(report: BatchReport): void {
    const labels = { model: report.agent, version: report.version };
    if (!report.ok) return;
    this.inferenceCount.inc(labels, report.rows);
    this.execCount.inc(labels);
    this.batchSize.observe(labels, report.rows);
    const bySize = { ...labels, batch_size: String(report.rows) };
    this.batchExecutions.inc(bySize);
    this.batchComputeSeconds.inc(bySize, report.computeSeconds);
    this.computeDuration.observe({ ...labels, backend: report.backend }, report.computeSeconds);
    for (const seconds of report.queueSeconds) this.queueDuration.observe(labels, seconds);
    this.triton.inferenceCount.inc(labels, report.rows);
    this.triton.execCount.inc(labels);
    this.triton.queue.inc(labels, report.queueSeconds.reduce((sum, seconds) => sum + seconds, 0) * US);
    // Triton counts a batch's compute time once for each request it served.
    this.triton.computeInfer.inc(labels, report.computeSeconds * report.requests * US);
  }

  /** One infer request's input and output handling (the worker's protocol routes report it). */
  observeRequest(timing: RequestTiming): void {
    const labels = { model: timing.agent, version: timing.version };
    this.triton.computeInput.inc(labels, timing.computeInputSeconds * US);
    this.triton.computeOutput.inc(labels, timing.computeOutputSeconds * US);
    if (timing.tokenizeSeconds !== undefined) this.tokenization.observe(labels, timing.tokenizeSeconds);
    for (const tokens of timing.rowTokens) this.inputTokens.observe(labels, tokens);
  }

  swapRefused(agent: string): void {
    this.swapsRefused.inc({ model: agent });
  }

  /** A version started serving `agent`; the previous one's info series goes. */
  versionServing(evidence: ModelEvidence): void {
    const previous = this.serving.get(evidence.agent);
    if (previous !== undefined) this.modelInfo.remove(infoLabels(previous));
    this.serving.set(evidence.agent, evidence);
    this.modelInfo.set(infoLabels(evidence), 1);
    // Every series of the version exists at 0 from its load on, as Triton's do: a dashboard's
    // rate() sees the first request instead of a series appearing with it.
    const labels = { model: evidence.agent, version: evidence.version };
    for (const counter of [this.inferenceCount, this.execCount, ...Object.values(this.triton)]) counter.inc(labels, 0);
    for (const histogram of [this.queueDuration, this.batchSize, this.tokenization, this.inputTokens]) histogram.zero(labels);
    if (evidence.fallback_reason !== undefined) {
      this.fallbacks.inc({ model: evidence.agent, version: evidence.version, reason: evidence.fallback_reason });
    }
    // The second step down: a GPU worker's ONNX Runtime serving on the CPU, counted by its own reason.
    if (evidence.cuda_fallback_reason !== undefined) {
      this.fallbacks.inc({ model: evidence.agent, version: evidence.version, reason: evidence.cuda_fallback_reason });
    }
  }
}

function infoLabels(evidence: ModelEvidence): Record<string, string> {
  return {
    model: evidence.agent,
    version: evidence.version,
    backend: evidence.backend,
    precision: evidence.precision,
    fallback_reason: evidence.fallback_reason ?? "",
    gpu_uuid: evidence.gpu_uuid ?? "",
  };
}
