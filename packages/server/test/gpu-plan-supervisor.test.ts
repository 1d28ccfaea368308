import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "@trtforge/core";
import { publish } from "@trtforge/model-store";
// The built package: the supervisor forks dist/process/worker-main.js, which the sources lack.
import { startServer, type GpuSample, type ServingServer } from "../dist/index.js";

// The supervisor's GPU plan with real worker processes and real HTTP, on a machine without GPUs:
// two GPUs as NVML would report them, a device map with a model on each and one on both, and a
// runtime module (pinned-runtime-module.mjs) that reports where each worker was pinned. The same
// plan runs on real GPUs in scripts/gpu-serve.sh (issue 14).
const RUNTIME_MODULE = fileURLToPath(new URL("./pinned-runtime-module.mjs", import.meta.url));
const engine = (revision: string) => `embeddings.sentence-transformers--all-MiniLM-L6-v2-${revision}-trt-10.16.0-fp16.engine`;
const ENGINES = { first: engine("111111111111"), second: engine("222222222222"), both: engine("333333333333") };
const UUIDS = ["GPU-aaaaaaaa-0000-4000-8000-000000000000", "GPU-bbbbbbbb-0000-4000-8000-000000000001"];
// NVML's order need not be the list's: the plan sorts by index.
const samples: GpuSample[] = [1, 0].map((index) => ({
  index,
  uuid: UUIDS[index]!,
  name: "test GPU",
  memoryUsedBytes: 0,
  memoryTotalBytes: 80 * 2 ** 30,
  utilizationPercent: 0,
}));

let dir: string;
let server: ServingServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-gpu-plan-"));
  const storeRoot = join(dir, "store");
  for (const [agent, name] of Object.entries(ENGINES)) {
    await publish({ root: storeRoot, agent, version: "v1", files: [{ path: name, data: "engine bytes" }] });
  }
  const deviceMap = join(dir, "map.yaml");
  await writeFileAtomic(deviceMap, `version: 1\nengines:\n  ${ENGINES.first}: 0\n  ${ENGINES.second}: 1\n  ${ENGINES.both}: [0, 1]\n`);
  server = await startServer({
    storeRoot,
    models: Object.keys(ENGINES),
    deviceMap,
    gpuCount: 2,
    gpuSampler: { sample: async () => samples },
    runtimeModule: RUNTIME_MODULE,
    httpPort: 0,
    metricsPort: 0,
    logLevel: "warn",
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function infer(agent: string): Promise<{ status: number; gpu?: string; artifact?: string; pid?: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${server.url}/v2/models/${agent}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["news"] }] }),
  });
  const body = (await res.json()) as { parameters?: Record<string, string>; outputs?: { data: number[] }[] };
  return {
    status: res.status,
    ...(body.parameters?.gpu_uuid === undefined ? {} : { gpu: body.parameters.gpu_uuid, artifact: body.parameters.artifact }),
    ...(body.outputs?.[0] === undefined ? {} : { pid: body.outputs[0].data[0] }),
    ms: Date.now() - started,
  };
}

describe("serve-engine's supervisor on two GPUs (NVML figures and workers pinned by UUID)", () => {
  it("starts one worker per GPU of the map, each holding only the models mapped to it", () => {
    expect(server.workers().map(({ name, gpu, models, ready }) => ({ name, gpu, models, ready }))).toEqual([
      { name: "gpu0", gpu: 0, models: ["first", "both"], ready: true },
      { name: "gpu1", gpu: 1, models: ["second", "both"], ready: true },
    ]);
  });

  it("pins each worker by its GPU's UUID in PCI bus order, and spreads the model mapped to both GPUs over both", async () => {
    expect(await infer("first")).toMatchObject({ status: 200, gpu: UUIDS[0], artifact: "pinned:PCI_BUS_ID" });
    expect(await infer("second")).toMatchObject({ status: 200, gpu: UUIDS[1], artifact: "pinned:PCI_BUS_ID" });
    const both = await Promise.all(Array.from({ length: 6 }, () => infer("both")));
    expect(new Set(both.map((r) => r.gpu))).toEqual(new Set(UUIDS));
    const metrics = await (await fetch(server.metricsUrl)).text();
    for (const uuid of UUIDS)
      expect(metrics).toContain(
        `trtforge_model_info{model="both",version="v1",backend="tensorrt",precision="fp16",fallback_reason="",gpu_uuid="${uuid}"} 1`,
      );
  });

  it("a killed worker's requests fail fast while the other GPU's do not, and it comes back on the same GPU", async () => {
    const victim = server.workers().find((w) => w.gpu === 1)!;
    process.kill(victim.pid!, "SIGKILL");
    const during = await Promise.all([infer("second"), infer("first"), infer("first")]);
    expect(during[0]!.status === 503 || during[0]!.status === 200).toBe(true);
    expect(during[0]!.ms).toBeLessThan(5000);
    expect(during.slice(1).map((r) => r.status)).toEqual([200, 200]);
    // Once the supervisor has seen the exit, "both" answers from GPU 0 (or from GPU 1's new worker).
    const deadline = Date.now() + 30_000;
    const stillOld = () => server.workers().some((w) => w.gpu === 1 && w.pid === victim.pid && w.ready);
    while (stillOld() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await infer("both")).status).toBe(200);
    let back = server.workers().find((w) => w.gpu === 1)!;
    while (!(back.ready && back.pid !== victim.pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      back = server.workers().find((w) => w.gpu === 1)!;
    }
    expect(back).toMatchObject({ ready: true, gpu: 1 });
    expect(back.pid).not.toBe(victim.pid);
    expect(await infer("second")).toMatchObject({ status: 200, gpu: UUIDS[1], pid: back.pid });
  }, 60_000);
  it("states in each model's configuration the worker instances that hold it, of their kind, on their GPUs", async () => {
    const groups = async (agent: string) => {
      const response = await fetch(`${server.url}/v2/models/${agent}/config`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { instance_group: unknown[] }).instance_group;
    };
    expect(await groups("first")).toEqual([{ name: "first_0", kind: "KIND_GPU", count: 1, gpus: [0] }]);
    expect(await groups("second")).toEqual([{ name: "second_0", kind: "KIND_GPU", count: 1, gpus: [1] }]);
    expect(await groups("both")).toEqual([{ name: "both_0", kind: "KIND_GPU", count: 2, gpus: [0, 1] }]);
  });
});
