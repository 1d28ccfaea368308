import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointSet, startInProcessServer, WorkerMetrics, type RunningServer } from "../src/index.js";
import { directEndpoint, doubleModel } from "./served-model-double.js";

const EIGHT_MIB = 8 * 1024 * 1024;
let server: RunningServer;

beforeAll(async () => {
  server = await startInProcessServer({
    endpoints: endpointSet([directEndpoint(doubleModel({ agent: "embed", version: "v1", kind: "embedding", maxBatch: 4, maxSeq: 8 }))]),
    workerMetrics: new WorkerMetrics(),
    maxBodyBytes: 16 * 1024 * 1024,
  });
});
afterAll(async () => {
  await server.close();
});

// A full collection, so that what is measured is what the process holds, not garbage waiting for V8
// (which collects dead socket buffers only after ~64 MiB of them: the RSS rise issue 20 measured).
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;
const held = () => {
  collect();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
};

describe("the front's memory", () => {
  it("stays flat over many 8 MiB bodies: it holds no body after answering it", async () => {
    const huge = "news ".repeat(EIGHT_MIB / 5);
    const bodies = [false, true].map((truncate) =>
      Buffer.from(JSON.stringify({ parameters: { truncate }, inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [huge] }] })),
    );
    const send = async (i: number) => {
      const response = await fetch(`${server.url}/v2/models/embed/infer`, {
        method: "POST",
        body: bodies[i % 2]!,
        headers: { "content-type": "application/json" },
      });
      await response.arrayBuffer();
      return response.status;
    };
    for (let i = 0; i < 4; i += 1) await send(i);
    const before = held();
    const statuses: number[] = [];
    // 32 bodies (256 MiB), four at a time.
    for (let round = 0; round < 8; round += 1) statuses.push(...(await Promise.all([0, 1, 2, 3].map(send))));
    // The client in this process may still hold its last request bodies for a moment (a refused
    // upload's socket closes after the answer): give it up to 2 s; what the front kept stays kept.
    let after = held();
    for (let wait = 0; wait < 20 && after.arrayBuffers - before.arrayBuffers >= EIGHT_MIB; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = held();
    }
    expect(statuses.filter((status) => status === 400)).toHaveLength(16);
    expect(statuses.filter((status) => status === 200)).toHaveLength(16);
    // Less than one body's worth retained over 32 bodies.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(EIGHT_MIB);
    expect(after.heap - before.heap).toBeLessThan(EIGHT_MIB);
  }, 300_000);
});
