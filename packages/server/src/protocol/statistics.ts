import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from "prom-client";
import { METRIC, TRITON_METRIC, UNKNOWN_MODEL_LABEL } from "../metrics/names.js";

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/** Triton's `StatisticDuration`: how many, and their cumulative nanoseconds. */
export interface StatisticDuration {
  count: number;
  ns: number;
}

/** One entry of Triton's statistics extension (`ModelStatistics`, HTTP JSON form). */
export interface ModelStatistics {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last answered request; 0 before the first. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<
    "success" | "fail" | "queue" | "compute_input" | "compute_infer" | "compute_output" | "cache_hit" | "cache_miss",
    StatisticDuration
  >;
  batch_stats: BatchStatistics[];
}

/** Triton's `InferBatchStatistics`: the executions of one batch size. */
export interface BatchStatistics {
  batch_size: number;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
}

/**
 * Triton's statistics extension computed from the server's merged metrics (the front's request
 * series and every worker's batch series), so /stats and /metrics can never disagree. Each
 * (model, version) with a series appears: after a hot swap the old version keeps its totals.
 * Unknown model names are counted under one label in the metrics and are never listed here.
 * `version` is Triton's integer for the store version (`numberOf`): perf_analyzer reads it as a
 * number; a `/versions/{v}/stats` request may name either the store version or that integer.
 */
export function modelStatistics(
  metrics: readonly MetricJson[],
  filter: { model?: string; version?: string } = {},
  /** Triton's integer for a store version (see FrontMetrics.versionNumber); the store name where it has none. */
  numberOf: (model: string, version: string) => number | undefined = () => undefined,
): ModelStatistics[] {
  const values = new Map<string, MetricJson>(metrics.map((metric) => [metric.name, metric]));
  /** Sums a metric's samples of (model, version); `sample` picks one part of a histogram (its `_sum`). */
  const sum = (name: string, model: string, version: string, sample?: string): number => {
    let total = 0;
    for (const value of values.get(name)?.values ?? []) {
      if (sample !== undefined && (value as MetricValueWithName<string>).metricName !== sample) continue;
      if (value.labels.model === model && value.labels.version === version) total += value.value;
    }
    return total;
  };
  const max = (name: string, model: string, version: string): number => {
    let found = 0;
    for (const value of values.get(name)?.values ?? []) {
      if (value.labels.model === model && value.labels.version === version) found = Math.max(found, value.value);
    }
    return found;
  };
  const pairs = new Map<string, { model: string; version: string }>();
  for (const name of [TRITON_METRIC.requestSuccess, TRITON_METRIC.inferenceCount]) {
    for (const value of values.get(name)?.values ?? []) {
      const model = String(value.labels.model ?? "");
      const version = String(value.labels.version ?? "");
      if (model === "" || model === UNKNOWN_MODEL_LABEL || version === "") continue;
      if (filter.model !== undefined && model !== filter.model) continue;
      if (filter.version !== undefined && version !== filter.version && String(numberOf(model, version)) !== filter.version) continue;
      pairs.set(`${model}\u0000${version}`, { model, version });
    }
  }
  const ns = (microseconds: number): number => Math.round(microseconds * 1000);
  return [...pairs.values()]
    .sort((a, b) => (a.model === b.model ? a.version.localeCompare(b.version) : a.model.localeCompare(b.model)))
    .map(({ model, version }) => {
      const success = sum(TRITON_METRIC.requestSuccess, model, version);
      const failCount = sum(TRITON_METRIC.requestFailure, model, version);
      const successNs = ns(sum(TRITON_METRIC.requestDuration, model, version));
      // The trtforge histogram holds every outcome's seconds; the failures' are what successes leave.
      const allNs = Math.round(sum(METRIC.requestDuration, model, version, `${METRIC.requestDuration}_sum`) * 1e9);
      const done = (microseconds: number): StatisticDuration => ({ count: success, ns: ns(microseconds) });
      return {
        name: model,
        version: String(numberOf(model, version) ?? version),
        last_inference: Math.round(max(METRIC.lastInference, model, version) * 1000),
        inference_count: sum(TRITON_METRIC.inferenceCount, model, version),
        execution_count: sum(TRITON_METRIC.execCount, model, version),
        inference_stats: {
          success: { count: success, ns: successNs },
          fail: { count: failCount, ns: Math.max(0, allNs - successNs) },
          queue: done(sum(TRITON_METRIC.queueDuration, model, version)),
          compute_input: done(sum(TRITON_METRIC.computeInputDuration, model, version)),
          compute_infer: done(sum(TRITON_METRIC.computeInferDuration, model, version)),
          compute_output: done(sum(TRITON_METRIC.computeOutputDuration, model, version)),
          cache_hit: { count: 0, ns: 0 },
          cache_miss: { count: 0, ns: 0 },
        },
        batch_stats: batchStatistics(values.get(METRIC.batchExecutions), values.get(METRIC.batchComputeSeconds), model, version),
      };
    });
}

/**
 * One entry per batch size that executed, ascending, from the per-size series of the workers. The
 * batch's input gathering and output splitting happen inside the backend run that compute_infer
 * times, so compute_input and compute_output count the executions with 0 ns: the per-request input
 * work (decoding, tokenizing) and output work (encoding the reply) are in inference_stats.
 */
function batchStatistics(
  executions: MetricJson | undefined,
  computeSeconds: MetricJson | undefined,
  model: string,
  version: string,
): BatchStatistics[] {
  const counts = new Map<number, { count: number; seconds: number }>();
  const entry = (labels: Record<string, string | number | undefined>): { count: number; seconds: number } | undefined => {
    if (labels.model !== model || labels.version !== version) return undefined;
    const size = Number(labels.batch_size);
    if (!Number.isInteger(size) || size < 1) return undefined;
    const found = counts.get(size) ?? { count: 0, seconds: 0 };
    counts.set(size, found);
    return found;
  };
  for (const value of executions?.values ?? []) {
    const found = entry(value.labels);
    if (found !== undefined) found.count += value.value;
  }
  for (const value of computeSeconds?.values ?? []) {
    const found = entry(value.labels);
    if (found !== undefined) found.seconds += value.value;
  }
  return [...counts.entries()]
    .filter(([, { count }]) => count > 0)
    .sort(([a], [b]) => a - b)
    .map(([size, { count, seconds }]) => ({
      batch_size: size,
      compute_input: { count, ns: 0 },
      compute_infer: { count, ns: Math.round(seconds * 1e9) },
      compute_output: { count, ns: 0 },
    }));
}
