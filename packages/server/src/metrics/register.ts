import { Counter, Gauge, Histogram, type Aggregator, type Registry } from "prom-client";

/**
 * Metric constructors bound to one registry. The front and each worker keep registries of their
 * own (the front merges the workers' into its scrape), so every metric must land in its owner's
 * registry and never in prom-client's global one; this is the one place that says so.
 */
export function metricsIn(registry: Registry) {
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      new Counter<L>({ name, help, labelNames, registers: [registry] }),
    /** `aggregator`: how the front merges the workers' values of this gauge (prom-client sums by default). */
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[], aggregator?: Aggregator): Gauge<L> =>
      new Gauge<L>({ name, help, labelNames, registers: [registry], ...(aggregator === undefined ? {} : { aggregator }) }),
    histogram: <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> =>
      new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }),
  };
}
