import { gzipSync } from "node:zlib";
import { silentLogger } from "@trtforge/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFront, type Front } from "../src/http/front.js";
import { closeServer, listen, urlOf } from "../src/http/listen.js";
import { HEADER_LENGTH, jsonReply, type HttpCall } from "../src/http/routes.js";
import { FrontMetrics } from "../src/metrics/front-metrics.js";

// What the front hands on to whatever runs the model (over IPC to a worker, behind a supervisor):
// a dispatcher that records each call. A text's model limit of 256 bytes, as the worker reports it.
const TEXT_LIMIT = 256;
const EIGHT_MIB = 8 * 1024 * 1024;
const forwarded: HttpCall[] = [];
let front: Front;
let url: string;

beforeAll(async () => {
  front = createFront({
    dispatcher: {
      ready: () => true,
      models: () => [{ name: "embed", ready: true }],
      textLimitBytes: (model) => (model === "embed" ? TEXT_LIMIT : undefined),
      handleModelCall: (call) => {
        forwarded.push(call);
        return Promise.resolve(jsonReply(200, { forwarded: call.body.length }));
      },
    },
    metrics: new FrontMetrics(undefined),
    workerMetrics: () => Promise.resolve([]),
    logger: silentLogger(),
    serverVersion: "test",
    maxBodyBytes: 32 * 1024 * 1024,
  });
  url = urlOf("127.0.0.1", await listen(front.server, "127.0.0.1", 0, "test"));
});
afterAll(async () => {
  front.stopAccepting();
  await closeServer(front.server);
});

async function post(body: Buffer, headers: Record<string, string> = {}): Promise<HttpCall> {
  forwarded.length = 0;
  const response = await fetch(`${url}/v2/models/embed/infer`, { method: "POST", body, headers });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  expect(forwarded).toHaveLength(1);
  return forwarded[0]!;
}

const huge = "news ".repeat(EIGHT_MIB / 5);

describe("the front forwards bounded texts only", () => {
  it("hands on an 8 MiB text as its first limit's worth, not the whole body", async () => {
    const body = Buffer.from(
      JSON.stringify({ parameters: { truncate: true }, inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["short", huge] }] }),
    );
    const call = await post(body, { "content-type": "application/json" });
    expect(body.length).toBeGreaterThan(EIGHT_MIB);
    expect(call.body.length).toBeLessThan(1024);
    const parsed = JSON.parse(call.body.toString()) as { inputs: { data: string[] }[] };
    // One character past the limit: the worker sees it is over and cuts (or refuses) as it would the whole text.
    expect(parsed.inputs[0]!.data).toEqual(["short", huge.slice(0, TEXT_LIMIT + 1)]);
  });

  it("bounds a gzip body's text the same way, decoding as it arrives", async () => {
    const body = gzipSync(Buffer.from(JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [huge] }] })));
    const call = await post(body, { "content-encoding": "gzip" });
    expect(call.body.length).toBeLessThan(1024);
  });

  it("rewrites Inference-Header-Content-Length when a binary request's JSON header held a long text", async () => {
    const header = Buffer.from(JSON.stringify({ id: "x", inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [huge] }] }));
    const tensor = Buffer.from([1, 2, 3, 4]);
    const call = await post(Buffer.concat([header, tensor]), { [HEADER_LENGTH]: String(header.length) });
    const headerLength = Number(call.headers[HEADER_LENGTH]);
    expect(headerLength).toBeLessThan(1024);
    expect(call.body.length).toBe(headerLength + tensor.length);
    expect(JSON.parse(call.body.subarray(0, headerLength).toString())).toMatchObject({ id: "x" });
    expect([...call.body.subarray(headerLength)]).toEqual([1, 2, 3, 4]);
  });

  it("refuses an invalid Inference-Header-Content-Length before reading the body", async () => {
    const response = await fetch(`${url}/v2/models/embed/infer`, { method: "POST", body: "{}", headers: { [HEADER_LENGTH]: "ten" } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(
      "Inference-Header-Content-Length must be a non-negative integer",
    );
  });
});
