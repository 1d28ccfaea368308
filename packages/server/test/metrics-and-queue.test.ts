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
