import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createNvmlSampler, NVML_ERROR_NOT_SUPPORTED, NVML_SUCCESS, type Nvml } from "../src/index.js";

const GIB = 1024 ** 3;

/** An NVML whose answers the test chooses (the real binding is exercised below and on a GPU host by scripts/gpu-smoke.sh). */
function fakeNvml(overrides: Partial<Nvml> = {}): Nvml & { calls: string[] } {
  const calls: string[] = [];
  const gpus = [
    { uuid: "GPU-11111111-2222-3333-4444-555555555555", name: "NVIDIA H100 80GB HBM3", total: 80 * GIB, used: 3 * GIB, util: 42 },
    { uuid: "GPU-66666666-7777-8888-9999-000000000000", name: "NVIDIA H100 80GB HBM3", total: 80 * GIB, used: 0, util: 0 },
  ];
  return {
    calls,
    init: () => (calls.push("init"), NVML_SUCCESS),
    shutdown: () => (calls.push("shutdown"), NVML_SUCCESS),
    deviceCount: () => ({ status: NVML_SUCCESS, count: gpus.length }),
    handle: (index) => ({ status: NVML_SUCCESS, device: gpus[index] }),
    uuid: (d) => ({ status: NVML_SUCCESS, text: (d as (typeof gpus)[0]).uuid }),
    name: (d) => ({ status: NVML_SUCCESS, text: (d as (typeof gpus)[0]).name }),
    memory: (d) => ({ status: NVML_SUCCESS, memory: { total: (d as (typeof gpus)[0]).total, used: (d as (typeof gpus)[0]).used } }),
    utilizationGpu: (d) => ({ status: NVML_SUCCESS, percent: (d as (typeof gpus)[0]).util }),
    errorString: (status) => `NVML error ${status}`,
    ...overrides,
  };
}

describe("createNvmlSampler", () => {
  it("returns null, not zeros, where libnvidia-ml cannot be loaded (the real koffi binding)", async () => {
    const sampler = createNvmlSampler({ libraryPath: "/nonexistent/libnvidia-ml.so.1" });
    expect(await sampler.sample()).toBeNull();
    expect(await sampler.sample()).toBeNull();
    sampler.close();
  });

  it.skipIf(existsSync("/dev/nvidiactl"))("returns null on this host without the NVIDIA driver (default library name)", async () => {
    expect(await createNvmlSampler().sample()).toBeNull();
  });

  it("reports each GPU's index, UUID, name, memory and utilization, initializing NVML once", async () => {
    const nvml = fakeNvml();
    const sampler = createNvmlSampler({ openNvml: () => nvml });
    const first = await sampler.sample();
    expect(first).toEqual([
      {
        index: 0,
        uuid: "GPU-11111111-2222-3333-4444-555555555555",
        name: "NVIDIA H100 80GB HBM3",
        memoryUsedBytes: 3 * GIB,
        memoryTotalBytes: 80 * GIB,
        utilizationPercent: 42,
      },
      {
        index: 1,
        uuid: "GPU-66666666-7777-8888-9999-000000000000",
        name: "NVIDIA H100 80GB HBM3",
        memoryUsedBytes: 0,
        memoryTotalBytes: 80 * GIB,
        utilizationPercent: 0,
      },
    ]);
    await sampler.sample();
    expect(nvml.calls).toEqual(["init"]);
    sampler.close();
    expect(nvml.calls).toEqual(["init", "shutdown"]);
  });

  it("gives utilizationPercent null where the GPU does not support the counter", async () => {
    const sampler = createNvmlSampler({
      openNvml: () => fakeNvml({ utilizationGpu: () => ({ status: NVML_ERROR_NOT_SUPPORTED, percent: 0 }) }),
    });
    const samples = await sampler.sample();
    expect(samples?.map((s) => s.utilizationPercent)).toEqual([null, null]);
  });

  it("leaves out a GPU whose memory cannot be read instead of reporting zeros", async () => {
    const nvml = fakeNvml();
    const memory = nvml.memory;
    const sampler = createNvmlSampler({
      openNvml: () => ({
        ...nvml,
        memory: (d) => (d === undefined || (d as { used: number }).used === 0 ? { status: 15, memory: { total: 0, used: 0 } } : memory(d)),
      }),
    });
    const samples = await sampler.sample();
    expect(samples?.map((s) => s.index)).toEqual([0]);
  });

  it("returns null when nvmlInit fails (driver present, no usable GPU)", async () => {
    const sampler = createNvmlSampler({ openNvml: () => fakeNvml({ init: () => 9 }) });
    expect(await sampler.sample()).toBeNull();
  });
});
