import { AggregatorRegistry, Registry, type Gauge, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { FailureReason } from "../protocol/protocol-error.js";
import { metricsIn } from "./register.js";
import { DURATION_BUCKETS, METRIC, TRITON_METRIC, UNKNOWN_MODEL_LABEL } from "./names.js";
import type { GpuSampler } from "./gpu-sampler.js";

/** The labels one infer request is counted under, fixed when it arrives (pending goes up and down on the same series). */
export interface RequestLabels {
  model: string;
  version: string;
}

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/**
 * What the process owning the public port measures: every infer request's outcome and latency,
 * requests in flight, worker restarts, and the GPUs. The scrape merges the workers' registries in.
 */
export class FrontMetrics {
  readonly registry = new Registry();
  private readonly metric = metricsIn(this.registry);
  private readonly success = this.metric.counter(METRIC.requestSuccess, "Infer requests answered 200", ["model", "version"]);
  private readonly failure = this.metric.counter(
    METRIC.requestFailure,
    "Infer requests that failed, by reason (bad_request, not_found, payload_too_large, not_ready, overloaded, worker_exited, shutting_down, internal)",
    ["model", "reason"],
  );
  private readonly duration = this.metric.histogram(
    METRIC.requestDuration,
    "Seconds from the request's last body byte to its response, infer requests",
    ["model", "version"],
    DURATION_BUCKETS,
  );
  private readonly pending = this.metric.gauge(METRIC.pendingRequests, "Infer requests received and not yet answered", [
    "model",
    "version",
  ]);
  private readonly lastInference = this.metric.gauge(
    METRIC.lastInference,
    "Unix time of the last infer request answered, seconds (Triton's statistics last_inference)",
    ["model", "version"],
    "max",
  );
  private readonly triton = {
    success: this.metric.counter(TRITON_METRIC.requestSuccess, "Number of successful inference requests, all batch sizes", [
      "model",
      "version",
    ]),
    failure: this.metric.counter(TRITON_METRIC.requestFailure, "Number of failed inference requests, all batch sizes, by reason", [
      "model",
      "version",
      "reason",
    ]),
    duration: this.metric.counter(
      TRITON_METRIC.requestDuration,
      "Cumulative inference request duration in microseconds, successful requests",
      ["model", "version"],
    ),
    pending: this.metric.gauge(TRITON_METRIC.pendingRequests, "Instantaneous number of pending requests awaiting execution per-model", [
      "model",
      "version",
    ]),
  };
  /** Served models and the version each last answered with: the only `model` label values besides UNKNOWN_MODEL_LABEL. */
  private readonly versions = new Map<string, string>();
  /** Per model, each version's place in the order this server loaded them (1, 2, ...): Triton's integer versions. */
  private readonly versionNumbers = new Map<string, Map<string, number>>();
  private readonly restarts = this.metric.counter(METRIC.workerRestarts, "Worker processes restarted after they exited", ["worker"]);
  private readonly workersReady = this.metric.gauge(
    METRIC.workerReady,
    "1 while a worker process has its models loaded and takes requests, 0 while it starts or restarts",
    ["worker"],
  );
  private workerStates: () => { name: string; ready: boolean }[] = () => [];
  private gpuGauges: { used: Gauge; total: Gauge; utilization: Gauge } | undefined;

  constructor(private readonly gpuSampler: GpuSampler | undefined) {}

  /**
   * A version of a served model is loaded: its series start at 0 now, not with the first request.
   * Also the only way a name becomes a `model` label value.
   */
  modelLoaded(model: string, version: string): void {
    if (this.versions.get(model) === version) return;
    this.versions.set(model, version);
    const numbers = this.versionNumbers.get(model) ?? new Map<string, number>();
    this.versionNumbers.set(model, numbers);
    if (!numbers.has(version)) numbers.set(version, numbers.size + 1);
    const labels = { model, version };
    for (const counter of [this.success, this.triton.success, this.triton.duration]) counter.inc(labels, 0);
    for (const gauge of [this.pending, this.triton.pending]) gauge.inc(labels, 0);
    this.duration.zero(labels);
  }

  /**
   * The integer Triton would show for a store version: its place in the order this server loaded
   * the model's versions (1 for the first). Triton's versions are integers, and perf_analyzer
   * parses the statistics' versions as such (std::stoll), so store names cannot go there.
   */
  versionNumber(model: string, version: string): number | undefined {
    return this.versionNumbers.get(model)?.get(version);
  }

  /**
   * The store version a path's `/versions/{v}` names: `v` itself where it is a store version this
   * server loaded, else the store version whose Triton integer (versionNumber) `v` is.
   */
  storeVersionOf(model: string, v: string): string {
    const numbers = this.versionNumbers.get(model);
    if (numbers === undefined || numbers.has(v) || !/^[1-9]\d*$/.test(v)) return v;
    for (const [version, number] of numbers) if (String(number) === v) return version;
    return v;
  }

  /** The labels of a request to `model`: its own name and version only once that model is loaded. */
  labelsFor(model: string): RequestLabels {
    const version = this.versions.get(model);
    return version === undefined ? { model: UNKNOWN_MODEL_LABEL, version: "" } : { model, version };
  }

  requestStarted(model: string): RequestLabels {
    const labels = this.labelsFor(model);
    this.pending.inc(labels);
    this.triton.pending.inc(labels);
    return labels;
  }

  requestEnded(
    started: RequestLabels,
    seconds: number,
    outcome: { ok: true; version: string } | { ok: false; reason: FailureReason; version?: string | undefined },
  ): void {
    this.pending.dec(started);
    this.triton.pending.dec(started);
    // The version that answered (a hot swap may have happened since the request arrived).
    const answered = started.model !== UNKNOWN_MODEL_LABEL && outcome.version ? outcome.version : started.version;
    if (answered !== started.version) this.modelLoaded(started.model, answered);
    const labels = { model: started.model, version: answered };
    this.duration.observe(labels, seconds);
    this.lastInference.set(labels, Date.now() / 1000);
    if (outcome.ok) {
      this.success.inc(labels);
      this.triton.success.inc(labels);
      this.triton.duration.inc(labels, seconds * 1e6);
    } else {
      this.failure.inc({ model: started.model, reason: outcome.reason });
      this.triton.failure.inc({ ...labels, reason: outcome.reason });
    }
  }

  /** Counts a failure that never reached a model (413 before the body was read, or during drain). */
  requestRejected(model: string, reason: FailureReason): void {
    const labels = this.labelsFor(model);
    this.failure.inc({ model: labels.model, reason });
    this.triton.failure.inc({ ...labels, reason });
  }

  workerRestarted(worker: string): void {
    this.restarts.inc({ worker });
  }

  /** Where the scrape reads each worker's state from. */
  watchWorkers(states: () => { name: string; ready: boolean }[]): void {
    this.workerStates = states;
  }

  /** Text exposition of this registry merged with the workers' (their counters summed). */
  async scrape(workerMetrics: readonly MetricJson[][]): Promise<{ contentType: string; text: string }> {
    await this.sampleGpus();
    for (const worker of this.workerStates()) this.workersReady.set({ worker: worker.name }, worker.ready ? 1 : 0);
    const merged = await this.merge(workerMetrics);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  /** This registry merged with the workers', as JSON (what the statistics extension reads). */
  async mergedJson(workerMetrics: readonly MetricJson[][]): Promise<MetricJson[]> {
    return (await this.merge(workerMetrics)).getMetricsAsJSON() as Promise<MetricJson[]>;
  }

  private async merge(workerMetrics: readonly MetricJson[][]): Promise<Registry> {
    const own = await this.registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([own, ...workerMetrics]);
  }

  /** GPU gauges exist only once a sampler has returned data: no driver means no series, not zeros. */
  private async sampleGpus(): Promise<void> {
    const samples = this.gpuSampler === undefined ? null : await this.gpuSampler.sample().catch(() => null);
    if (samples === null || samples.length === 0) {
      if (this.gpuGauges !== undefined) for (const gauge of Object.values(this.gpuGauges)) gauge.reset();
      return;
    }
    const labelNames = ["gpu", "gpu_uuid", "name"];
    this.gpuGauges ??= {
      used: this.metric.gauge(METRIC.gpuMemoryUsed, "GPU memory used, bytes (NVML)", labelNames),
      total: this.metric.gauge(METRIC.gpuMemoryTotal, "GPU memory total, bytes (NVML)", labelNames),
      utilization: this.metric.gauge(
        METRIC.gpuUtilization,
        "GPU utilization over the driver's last sample period, 0 to 1 (NVML)",
        labelNames,
      ),
    };
    for (const gauge of Object.values(this.gpuGauges)) gauge.reset();
    for (const sample of samples) {
      const labels = { gpu: String(sample.index), gpu_uuid: sample.uuid, name: sample.name };
      this.gpuGauges.used.set(labels, sample.memoryUsedBytes);
      this.gpuGauges.total.set(labels, sample.memoryTotalBytes);
      // A GPU that does not report utilization has no utilization series, not a zero.
      if (sample.utilizationPercent !== null) this.gpuGauges.utilization.set(labels, sample.utilizationPercent / 100);
    }
  }
}
