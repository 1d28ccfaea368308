import { describe, expect, it } from "vitest";
import { createBatcher, fixedProvider } from "@trtforge/runtime";
import { createFakeAddon } from "@trtforge/native/fake";
import {
  countGpus,
  endpointSet,
  FrontMetrics,
  startInProcessServer,
  WorkerMetrics,
  type GpuSample,
  type GpuSampler,
  type ModelEndpoint,
} from "../src/index.js";
import { doubleModel } from "./served-model-double.js";

describe("GPU gauges", () => {
  const gpu: GpuSample = {
    index: 0,
    uuid: "GPU-1234",
    name: "NVIDIA H100",
    memoryUsedBytes: 2e9,
    memoryTotalBytes: 80e9,
    utilizationPercent: 37,
  };

  it("exports memory and utilization per GPU while the sampler returns data, and no series at all when it cannot", async () => {
    let samples: GpuSample[] | null = [gpu];
    const sampler: GpuSampler = { sample: async () => samples };
    const metrics = new FrontMetrics(sampler);
    const present = (await metrics.scrape([])).text;
    expect(present).toContain('trtforge_gpu_memory_used_bytes{gpu="0",gpu_uuid="GPU-1234",name="NVIDIA H100"} 2000000000');
    expect(present).toContain('trtforge_gpu_memory_total_bytes{gpu="0",gpu_uuid="GPU-1234",name="NVIDIA H100"} 80000000000');
    expect(present).toContain('trtforge_gpu_utilization_ratio{gpu="0",gpu_uuid="GPU-1234",name="NVIDIA H100"} 0.37');
    samples = [{ ...gpu, utilizationPercent: null }];
    const noUtilization = (await metrics.scrape([])).text;
    expect(noUtilization).toContain('trtforge_gpu_memory_used_bytes{gpu="0"');
    expect(noUtilization).not.toMatch(/trtforge_gpu_utilization_ratio\{/);
    samples = null;
    expect((await metrics.scrape([])).text).not.toMatch(/trtforge_gpu_\w+\{/);
    const never = (await new FrontMetrics({ sample: async () => null }).scrape([])).text;
    expect(never).not.toContain("trtforge_gpu_");
  });

  it("sums the workers' counters into one exposition", async () => {
    const a = new WorkerMetrics();
    const b = new WorkerMetrics();
    const report = {
      agent: "m",
      version: "v1",
      backend: "onnxruntime" as const,
      requests: 2,
      rows: 5,
      seqLen: 64,
      queueSeconds: [0.001, 0.002],
      computeSeconds: 0.01,
      ok: true,
    };
    a.observeBatch(report);
    b.observeBatch(report);
    b.observeBatch({ ...report, rows: 1, requests: 1, queueSeconds: [0] });
    const text = (await new FrontMetrics(undefined).scrape([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]))
      .text;
    expect(text).toContain('trtforge_inference_count_total{model="m",version="v1"} 11');
    expect(text).toContain('trtforge_inference_exec_count_total{model="m",version="v1"} 3');
    expect(text).toContain('trtforge_inference_queue_duration_seconds_count{model="m",version="v1"} 5');
    expect(text).toContain('trtforge_inference_batch_size_bucket{le="4",model="m",version="v1"} 1');
  });
});

describe("countGpus", () => {
  it("takes the sampler's GPUs, else the CUDA devices the TensorRT addon sees, else 0", async () => {
    const device = {
      index: 0,
      name: "H100",
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
      computeCapability: "9.0",
      totalMemoryBytes: 80e9,
      multiProcessorCount: 132,
    };
    const addon = createFakeAddon({ devices: [device, { ...device, index: 1 }, { ...device, index: 2 }] });
    const gpus: GpuSample[] = [0, 1].map((index) => ({
      index,
      uuid: `GPU-${index}`,
      name: "H100",
      memoryUsedBytes: 0,
      memoryTotalBytes: 1,
      utilizationPercent: 0,
    }));
    expect(await countGpus({ sample: async () => gpus }, () => ({ available: false, reason: "not-built", message: "", fix: "" }))).toBe(2);
    expect(await countGpus({ sample: async () => null }, () => ({ available: true, trtMajor: 10, path: "fake", binding: addon }))).toBe(3);
    expect(await countGpus(undefined, () => ({ available: false, reason: "not-built", message: "", fix: "" }))).toBe(0);
    // This host: no NVML sampler given and no addon built.
    expect(await countGpus(undefined)).toBe(0);
  });
});

describe("a full queue answers 503 (the runtime's batcher, bounded by maxQueue)", () => {
  it("refuses what does not fit with 503 and a JSON error, serves the rest, and counts overloaded failures", async () => {
    const model = doubleModel({ agent: "slow", version: "v1", kind: "embedding" });
    const slowModel = {
      ...model,
      run: async (batch: Parameters<typeof model.run>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return model.run(batch);
      },
    };
    const batcher = createBatcher({ maxQueue: 1, maxQueueDelayMs: 0 });
    const endpoint: ModelEndpoint = {
      agent: "slow",
      current: () => slowModel,
      acquire: () => fixedProvider(slowModel).acquire(),
      infer: (request) => batcher.infer(request),
    };
    const server = await startInProcessServer({ endpoints: endpointSet([endpoint]) });
    try {
      const body = JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["a b"] }] });
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => fetch(`${server.url}/v2/models/slow/infer`, { method: "POST", body })),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(1);
      const refused = responses.find((response) => response.status === 503)!;
      expect(((await refused.json()) as { error: string }).error).toMatch(/model "slow" is overloaded: .*retry later/);
      expect(await (await fetch(server.metricsUrl)).text()).toMatch(
        /trtforge_inference_request_failure_total\{model="slow",reason="overloaded"\} [1-9]/,
      );
    } finally {
      await server.close();
      await batcher.close();
    }
  });
});

describe("executions by the model's execution cost (the batcher's length groups, issue 20)", () => {
  /** Eight requests of 1 to 22 words, 3 apart: the first runs alone while the seven others queue behind it. */
  async function executionsFor(executionCost: { fixedMs: number; perCellMs: number }) {
    const model = doubleModel({ agent: "mixed", version: "v1", kind: "embedding", maxBatch: 8, maxSeq: 32 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = {
      ...model,
      run: async (batch: Parameters<typeof model.run>[0]) => {
        await gate;
        return model.run(batch);
      },
    };
    const metrics = new WorkerMetrics();
    const batcher = createBatcher({ maxQueue: 64, maxQueueDelayMs: 0, executionCost, onBatch: (report) => metrics.observeBatch(report) });
    const endpoint: ModelEndpoint = {
      agent: "mixed",
      current: () => gated,
      acquire: () => fixedProvider(gated).acquire(),
      infer: (request) => batcher.infer(request),
    };
    const server = await startInProcessServer({ endpoints: endpointSet([endpoint]), workerMetrics: metrics });
    try {
      const texts = Array.from({ length: 8 }, (_, i) => Array.from({ length: 1 + 3 * i }, () => "word").join(" "));
      const infer = (text: string) =>
        fetch(`${server.url}/v2/models/mixed/infer`, {
          method: "POST",
          body: JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }] }),
        });
      const first = infer(texts[0]!);
      while (!batcher.busy || batcher.pending > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const rest = texts.slice(1).map(infer);
      while (batcher.pending < rest.length) await new Promise((resolve) => setTimeout(resolve, 5));
      release();
      const responses = await Promise.all([first, ...rest]);
      expect(responses.map((response) => response.status)).toEqual(texts.map(() => 200));
      const stats = (await (await fetch(`${server.url}/v2/models/mixed/stats`)).json()) as {
        model_stats: { inference_count: number; execution_count: number }[];
      };
      return stats.model_stats[0]!;
    } finally {
      await server.close();
      await batcher.close();
    }
  }

  it("merges concurrent requests of mixed lengths into fewer executions where an execution costs more than their padding", async () => {
    const high = await executionsFor({ fixedMs: 100, perCellMs: 0.01 });
    expect(high.inference_count).toBe(8);
    // The first alone, then the seven that queued behind it as one execution.
    expect(high.execution_count).toBe(2);
    // Where an execution costs less than padding a row by three tokens (the 2-thread shape), each length runs apart.
    const low = await executionsFor({ fixedMs: 0.2, perCellMs: 0.1 });
    expect(low.inference_count).toBe(8);
    expect(low.execution_count).toBe(8);
  }, 120_000);
});
