import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { FailureReason } from "../protocol/protocol-error.js";
import { DURATION_BUCKETS, METRIC } from "./names.js";
import type { GpuSampler } from "./gpu-sampler.js";

/**
 * What the process owning the public port measures: every infer request's outcome and latency,
 * requests in flight, worker restarts, and the GPUs. The scrape merges the workers' registries in.
 */
export class FrontMetrics {
  readonly registry = new Registry();
  private readonly success = new Counter({
    name: METRIC.requestSuccess,
    help: "Infer requests answered 200",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  private readonly failure = new Counter({
    name: METRIC.requestFailure,
    help: "Infer requests that failed, by reason (bad_request, not_found, payload_too_large, not_ready, overloaded, worker_exited, shutting_down, internal)",
    labelNames: ["model", "reason"],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: METRIC.requestDuration,
    help: "Seconds from the request's last body byte to its response, infer requests",
    labelNames: ["model"],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly pending = new Gauge({
    name: METRIC.pendingRequests,
    help: "Infer requests received and not yet answered",
    labelNames: ["model"],
    registers: [this.registry],
  });
  private readonly restarts = new Counter({
    name: METRIC.workerRestarts,
    help: "Worker processes restarted after they exited",
    labelNames: ["worker"],
    registers: [this.registry],
  });
  private readonly workersReady = new Gauge({
    name: METRIC.workerReady,
    help: "1 while a worker process has its models loaded and takes requests, 0 while it starts or restarts",
    labelNames: ["worker"],
    registers: [this.registry],
  });
  private workerStates: () => { name: string; ready: boolean }[] = () => [];
  private gpuGauges: { used: Gauge; total: Gauge; utilization: Gauge } | undefined;

  constructor(private readonly gpuSampler: GpuSampler | undefined) {}

  requestStarted(model: string): void {
    this.pending.inc({ model });
  }

  requestEnded(model: string, seconds: number, outcome: { ok: true; version: string } | { ok: false; reason: FailureReason }): void {
    this.pending.dec({ model });
    this.duration.observe({ model }, seconds);
    if (outcome.ok) this.success.inc({ model, version: outcome.version });
    else this.failure.inc({ model, reason: outcome.reason });
  }

  /** Counts a failure that never reached a model (413 before the body was read). */
  requestRejected(model: string, reason: FailureReason): void {
    this.failure.inc({ model, reason });
  }

  workerRestarted(worker: string): void {
    this.restarts.inc({ worker });
  }

  /** Where the scrape reads each worker's state from. */
  watchWorkers(states: () => { name: string; ready: boolean }[]): void {
    this.workerStates = states;
  }

  /** Text exposition of this registry merged with the workers' (their counters summed). */
  async scrape(workerMetrics: readonly MetricObjectWithValues<MetricValue<string>>[][]): Promise<{ contentType: string; text: string }> {
    await this.sampleGpus();
    for (const worker of this.workerStates()) this.workersReady.set({ worker: worker.name }, worker.ready ? 1 : 0);
    const own = await this.registry.getMetricsAsJSON();
    const merged = AggregatorRegistry.aggregate([own, ...workerMetrics]);
    return { contentType: merged.contentType, text: await merged.metrics() };
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
      used: new Gauge({ name: METRIC.gpuMemoryUsed, help: "GPU memory used, bytes (NVML)", labelNames, registers: [this.registry] }),
      total: new Gauge({ name: METRIC.gpuMemoryTotal, help: "GPU memory total, bytes (NVML)", labelNames, registers: [this.registry] }),
      utilization: new Gauge({
        name: METRIC.gpuUtilization,
        help: "GPU utilization over the driver's last sample period, 0 to 1 (NVML)",
        labelNames,
        registers: [this.registry],
      }),
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
