import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointSet, startInProcessServer, WorkerMetrics, type RunningServer } from "../src/index.js";
import { directEndpoint, doubleModel } from "./served-model-double.js";

// Response bodies are read field by field with expect(); their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonObject = Record<string, any>;

const embed = doubleModel({ agent: "trt-embeddings", version: "v1", kind: "embedding" });
const classify = doubleModel({ agent: "trt-sentiment", version: "v7", kind: "classification" });
let server: RunningServer;

beforeAll(async () => {
  server = await startInProcessServer({
    endpoints: endpointSet([directEndpoint(embed), directEndpoint(classify)]),
    workerMetrics: new WorkerMetrics(),
    maxBodyBytes: 1024 * 1024,
  });
});
afterAll(async () => {
  await server.close();
});

function bytesElements(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((value) => {
      const text = Buffer.from(value);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return [length, text];
    }),
  );
}

async function postJson(path: string, body: unknown): Promise<{ status: number; json: JsonObject }> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return { status: response.status, json: (await response.json()) as JsonObject };
}

async function postBinary(path: string, header: unknown, binary: Buffer, headerLengthDelta = 0) {
  const json = Buffer.from(JSON.stringify(header));
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    body: Buffer.concat([json, binary]),
    headers: { "inference-header-content-length": String(json.length + headerLengthDelta), "content-type": "application/octet-stream" },
  });
  const body = Buffer.from(await response.arrayBuffer());
  const length = response.headers.get("inference-header-content-length");
  const jsonLength = length === null ? body.length : Number(length);
  return {
    status: response.status,
    json: JSON.parse(body.subarray(0, jsonLength).toString()) as JsonObject,
    binary: body.subarray(jsonLength),
  };
}

const textInput = (texts: string[]) => ({ name: "text", datatype: "BYTES", shape: [texts.length], data: texts });

describe("health and metadata", () => {
  it("answers live, ready, server metadata with the binary extension, and model metadata with evidence", async () => {
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const meta = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).toContain("binary_tensor_data");
    for (const path of ["/v2/models/trt-sentiment", "/v2/models/trt-sentiment/versions/v7"]) {
      const model = (await (await fetch(`${server.url}${path}`)).json()) as JsonObject;
      expect(model.name).toBe("trt-sentiment");
      expect(model.versions).toEqual(["v7"]);
      expect(model.inputs[0]).toEqual({ name: "text", datatype: "BYTES", shape: [-1, 1] });
      expect(model.outputs.map((o: { name: string }) => o.name)).toEqual(["logits", "label", "probabilities"]);
      expect(model.parameters).toMatchObject({
        agent: "trt-sentiment",
        version: "v7",
        backend: "onnxruntime",
        fallback_reason: "ENGINE_IS_MARKER",
        checksum: "ab".repeat(32),
      });
    }
    expect((await fetch(`${server.url}/v2/models/trt-sentiment/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/models/trt-sentiment/versions/v7/ready`)).status).toBe(200);
  });

  it("answers 404 with a JSON error for an unknown model or version", async () => {
    for (const path of [
      "/v2/models/nope",
      "/v2/models/nope/ready",
      "/v2/models/trt-sentiment/versions/v6",
      "/v2/models/trt-sentiment/versions/v6/ready",
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: string }).error).toMatch(/unknown model "nope"|no version "v6"/);
    }
    const infer = await postJson("/v2/models/nope/infer", { inputs: [textInput(["a"])] });
    expect(infer.status).toBe(404);
    const version = await postJson("/v2/models/trt-embeddings/versions/v0/infer", { inputs: [textInput(["a"])] });
    expect(version.status).toBe(404);
  });
});

describe("infer", () => {
  it("runs JSON text and returns every output with the evidence in parameters", async () => {
    const { status, json } = await postJson("/v2/models/trt-embeddings/infer", { id: "r1", inputs: [textInput(["a bb", "ccc"])] });
    expect(status).toBe(200);
    expect(json).toMatchObject({ model_name: "trt-embeddings", model_version: "v1", id: "r1" });
    expect(json.parameters).toMatchObject({
      model_id: "test/double",
      hf_revision: "0123456789ab",
      agent: "trt-embeddings",
      version: "v1",
      backend: "onnxruntime",
      precision: "fp32",
      artifact: "model.onnx",
      fallback_reason: "ENGINE_IS_MARKER",
    });
    expect(json.outputs).toEqual([
      {
        name: "sentence_embedding",
        datatype: "FP32",
        shape: [2, 4],
        data: [4, 101 + 101 + 102 + 102, 101, 102, 3, 101 + 103 + 102, 101, 102],
      },
    ]);
  });

  it("takes binary BYTES text and returns requested outputs in binary, BYTES as length-prefixed strings", async () => {
    const texts = ["one two three four", "hi"];
    const input = bytesElements(texts);
    const { status, json, binary } = await postBinary(
      "/v2/models/trt-sentiment/versions/v7/infer",
      {
        inputs: [{ name: "text", datatype: "BYTES", shape: [2, 1], parameters: { binary_data_size: input.length } }],
        outputs: [{ name: "label", parameters: { binary_data: true } }, { name: "probabilities" }],
      },
      input,
    );
    expect(status).toBe(200);
    expect(json.outputs.map((o: { name: string }) => o.name)).toEqual(["label", "probabilities"]);
    expect(json.outputs[0]).toEqual({ name: "label", datatype: "BYTES", shape: [2], parameters: { binary_data_size: binary.length } });
    expect(binary).toEqual(bytesElements(["long", "short"]));
    expect(json.outputs[1].data).toHaveLength(4);
    expect(json.parameters.version).toBe("v7");
  });

  it("returns all outputs in binary with binary_data_output, and takes INT32 token ids in binary", async () => {
    const ids = Buffer.alloc(2 * 3 * 4);
    [101, 150, 102, 101, 160, 102].forEach((id, i) => ids.writeInt32LE(id, i * 4));
    const { status, json, binary } = await postBinary(
      "/v2/models/trt-embeddings/infer",
      {
        parameters: { binary_data_output: true },
        inputs: [{ name: "input_ids", datatype: "INT32", shape: [2, 3], parameters: { binary_data_size: ids.length } }],
      },
      ids,
    );
    expect(status).toBe(200);
    expect(json.outputs[0]).toMatchObject({ name: "sentence_embedding", shape: [2, 4], parameters: { binary_data_size: 32 } });
    const floats = Array.from({ length: 8 }, (_, i) => binary.readFloatLE(i * 4));
    expect(floats).toEqual([3, 353, 101, 102, 3, 363, 101, 102]);
  });

  it("takes INT64 JSON token ids with a mask (nested data)", async () => {
    const { status, json } = await postJson("/v2/models/trt-embeddings/infer", {
      inputs: [
        { name: "input_ids", datatype: "INT64", shape: [1, 3], data: [[101, 150, 102]] },
        { name: "attention_mask", datatype: "INT64", shape: [1, 3], data: [[1, 1, 0]] },
      ],
    });
    expect(status).toBe(200);
    expect(json.outputs[0].data).toEqual([2, 251, 101, 150]);
  });

  it("cuts text at the profile only when the request sets truncate", async () => {
    const long = "w ".repeat(20);
    const refused = await postJson("/v2/models/trt-embeddings/infer", { inputs: [textInput([long])] });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/over the profile's 8.*"truncate": true/);
    const cut = await postJson("/v2/models/trt-embeddings/infer", { parameters: { truncate: true }, inputs: [textInput([long])] });
    expect(cut.status).toBe(200);
    expect(cut.json.outputs[0].data[0]).toBe(8);
  });
});

describe("bad input answers 400 with a JSON error naming the problem", () => {
  const cases: [string, unknown, RegExp][] = [
    [
      "wrong datatype for text",
      { inputs: [{ name: "text", datatype: "INT64", shape: [1], data: [1] }] },
      /"text" has datatype INT64, but text travels as BYTES/,
    ],
    ["unsupported datatype", { inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1.5] }] }, /datatype FP32/],
    [
      "wrong shape for text",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [1, 2], data: ["a", "b"] }] },
      /shape \[rows\] or \[rows, 1\]/,
    ],
    [
      "data count disagreeing with shape",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [3], data: ["a"] }] },
      /1 element\(s\) but its shape \[3\] holds 3/,
    ],
    ["empty batch", { inputs: [{ name: "text", datatype: "BYTES", shape: [0], data: [] }] }, /empty batch/],
    [
      "rows over the maximum batch",
      { inputs: [textInput(["a", "b", "c", "d", "e"])] },
      /5 rows but model "trt-embeddings" takes at most 4/,
    ],
    ["unknown input", { inputs: [{ name: "pixels", datatype: "INT64", shape: [1, 1], data: [1] }] }, /no input "pixels"/],
    ["unknown output", { inputs: [textInput(["a"])], outputs: [{ name: "pooler" }] }, /no output "pooler"/],
    ["unknown top-level field", { inputs: [textInput(["a"])], input: [] }, /unknown field\(s\) "input"/],
    ["unknown input field", { inputs: [{ ...textInput(["a"]), datatypes: "BYTES" }] }, /inputs\.0: unknown field\(s\) "datatypes"/],
    [
      "token ids over the profile",
      { inputs: [{ name: "input_ids", datatype: "INT64", shape: [1, 9], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }] },
      /9 tokens per row; model "trt-embeddings" takes 1 to 8/,
    ],
    [
      "mask shape disagreeing",
      {
        inputs: [
          { name: "input_ids", datatype: "INT64", shape: [1, 2], data: [1, 2] },
          { name: "attention_mask", datatype: "INT64", shape: [1, 1], data: [1] },
        ],
      },
      /must agree/,
    ],
    ["malformed JSON", '{"inputs": [', /not valid JSON/],
  ];
  it.each(cases)("%s", async (_, body, message) => {
    const { status, json } = await postJson("/v2/models/trt-embeddings/infer", body);
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
  });

  it("refuses binary sizes that disagree with the header or the body", async () => {
    const input = bytesElements(["a", "b"]);
    const header = (size: number) => ({
      inputs: [{ name: "text", datatype: "BYTES", shape: [2], parameters: { binary_data_size: size } }],
    });
    const tooBig = await postBinary("/v2/models/trt-embeddings/infer", header(input.length + 4), input);
    expect(tooBig.status).toBe(400);
    expect(tooBig.json.error).toMatch(/reaches past the end of the body/);
    const leftOver = await postBinary("/v2/models/trt-embeddings/infer", header(input.length - 1), input);
    expect(leftOver.status).toBe(400);
    const headerPastBody = await fetch(`${server.url}/v2/models/trt-embeddings/infer`, {
      method: "POST",
      body: "{}",
      headers: { "inference-header-content-length": "99" },
    });
    expect(headerPastBody.status).toBe(400);
    expect(((await headerPastBody.json()) as { error: string }).error).toMatch(
      /Inference-Header-Content-Length is 99 but the body has only 2 bytes/,
    );
  });

  it("answers a 100 MB body with 413 at once, without buffering it", async () => {
    const started = Date.now();
    const body = Buffer.alloc(100 * 1024 * 1024, 0x20);
    const result = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/v2/models/trt-embeddings/infer`,
        { method: "POST", headers: { "content-length": body.length } },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
      });
      req.end(body);
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.text).error).toMatch(/over the server's limit of 1048576 bytes/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("counts successes and failures by reason in /metrics", async () => {
    const text = await (await fetch(server.metricsUrl)).text();
    expect(text).toMatch(/trtforge_inference_request_success_total\{model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).toMatch(/trtforge_inference_request_failure_total\{model="trt-embeddings",reason="bad_request"\} [1-9]/);
    // An unknown name is counted under the one fixed label, never under its own.
    expect(text).toMatch(/trtforge_inference_request_failure_total\{model="_unknown",reason="not_found"\} 1/);
    expect(text).not.toContain('model="nope"');
    expect(text).toMatch(/trtforge_inference_request_duration_seconds_count\{model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).not.toMatch(/trtforge_gpu_memory_used_bytes\{/);
  });
});
