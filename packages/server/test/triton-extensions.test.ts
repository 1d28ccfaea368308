import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointSet, startInProcessServer, WorkerMetrics, type ModelEndpoint, type RunningServer } from "../src/index.js";
import { directEndpoint, doubleModel } from "./served-model-double.js";

// Response bodies are read field by field with expect(); their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonObject = Record<string, any>;

const embed = doubleModel({ agent: "trt-embeddings", version: "v1", kind: "embedding", maxBatch: 16, maxSeq: 128 });
const classify = doubleModel({ agent: "trt-sentiment", version: "v7", kind: "classification" });
const workerMetrics = new WorkerMetrics();
let server: RunningServer;

/** The double endpoints, reporting batches and versions into workerMetrics as the runtime binding does. */
function measured(model: typeof embed): ModelEndpoint {
  workerMetrics.versionServing(model.evidence);
  const direct = directEndpoint(model);
  return {
    agent: direct.agent,
    batching: { maxQueue: 64, maxQueueDelayMs: 2 },
    current: direct.current,
    acquire: direct.acquire,
    async infer(request) {
      const started = process.hrtime.bigint();
      const result = await direct.infer(request);
      workerMetrics.observeBatch({
        agent: model.agent,
        version: model.version,
        backend: "onnxruntime",
        requests: 1,
        rows: request.tokens.rows,
        seqLen: request.tokens.seqLen,
        queueSeconds: [0.001],
        computeSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        ok: true,
      });
      return result;
    },
  };
}

beforeAll(async () => {
  server = await startInProcessServer({ endpoints: endpointSet([measured(embed), measured(classify)]), workerMetrics });
});
afterAll(async () => {
  await server.close();
});

async function getJson(path: string, init: RequestInit = {}): Promise<{ status: number; json: JsonObject; headers: Headers }> {
  const response = await fetch(`${server.url}${path}`, init);
  return { status: response.status, json: (await response.json()) as JsonObject, headers: response.headers };
}

const textRequest = (texts: string[], outputs?: unknown[]) =>
  JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }], ...(outputs ? { outputs } : {}) });

describe("Triton's extensions", () => {
  it("advertises what it implements, under Triton's names", async () => {
    const { json } = await getJson("/v2");
    expect(json.extensions).toEqual(
      expect.arrayContaining(["binary_tensor_data", "classification", "model_configuration", "model_repository", "statistics"]),
    );
  });

  it("GET /config answers a Triton ModelConfig: batch dimension left out, every input optional (text or tokens), TYPE_* names", async () => {
    const { status, json } = await getJson("/v2/models/trt-embeddings/config");
    expect(status).toBe(200);
    expect(json).toMatchObject({
      name: "trt-embeddings",
      platform: "onnxruntime_onnx",
      backend: "onnxruntime",
      max_batch_size: 16,
      dynamic_batching: { max_queue_delay_microseconds: 2000, default_queue_policy: { max_queue_size: 64 } },
      instance_group: [{ kind: "KIND_CPU", count: 1 }],
    });
    expect(json.input).toEqual([
      expect.objectContaining({ name: "text", data_type: "TYPE_STRING", dims: [1], reshape: { shape: [] }, optional: true }),
      expect.objectContaining({ name: "input_ids", data_type: "TYPE_INT64", dims: [-1], optional: true }),
      expect.objectContaining({ name: "attention_mask", data_type: "TYPE_INT64", dims: [-1], optional: true }),
    ]);
    expect(json.output).toEqual([expect.objectContaining({ name: "sentence_embedding", data_type: "TYPE_FP32", dims: [4] })]);
    expect(json.parameters.input_alternatives).toEqual({ string_value: "text | input_ids,attention_mask" });
    const versioned = await getJson("/v2/models/trt-embeddings/versions/v1/config");
    expect(versioned.json).toEqual(json);
    expect((await getJson("/v2/models/trt-embeddings/versions/v9/config")).status).toBe(404);
    expect((await getJson("/v2/models/nope/config")).status).toBe(404);
    const classifier = await getJson("/v2/models/trt-sentiment/config");
    expect(classifier.json.output).toEqual([
      expect.objectContaining({ name: "logits", dims: [2] }),
      expect.objectContaining({ name: "label", data_type: "TYPE_STRING", dims: [1], reshape: { shape: [] } }),
      expect.objectContaining({ name: "probabilities", dims: [2] }),
    ]);
  });

  it("model metadata names the input alternatives", async () => {
    const { json } = await getJson("/v2/models/trt-embeddings");
    expect(json.parameters.input_alternatives).toBe("text | input_ids,attention_mask");
  });

  it("statistics count requests, inferences and executions in Triton's shape, per model and version", async () => {
    const before = await getJson("/v2/models/trt-sentiment/stats");
    expect(before.status).toBe(200);
    expect(before.json.model_stats).toHaveLength(1);
    const start = before.json.model_stats[0];
    // Triton's versions are integers (perf_analyzer parses them): the first version this server loaded is "1".
    expect(start).toMatchObject({ name: "trt-sentiment", version: "1" });
    for (const key of ["success", "fail", "queue", "compute_input", "compute_infer", "compute_output", "cache_hit", "cache_miss"]) {
      expect(start.inference_stats[key]).toEqual({ count: expect.any(Number), ns: expect.any(Number) });
    }
    const post = (body: string) => fetch(`${server.url}/v2/models/trt-sentiment/infer`, { method: "POST", body });
    expect((await post(textRequest(["one two", "three"]))).status).toBe(200);
    expect((await post(textRequest(["four"]))).status).toBe(200);
    expect((await post("{broken")).status).toBe(400);
    const after = (await getJson("/v2/models/trt-sentiment/versions/v7/stats")).json.model_stats[0];
    expect((await getJson("/v2/models/trt-sentiment/versions/1/stats")).json.model_stats[0].name).toBe("trt-sentiment");
    expect(after.inference_stats.success.count - start.inference_stats.success.count).toBe(2);
    expect(after.inference_stats.fail.count - start.inference_stats.fail.count).toBe(1);
    expect(after.inference_count - start.inference_count).toBe(3);
    expect(after.execution_count - start.execution_count).toBe(2);
    expect(after.inference_stats.success.ns).toBeGreaterThan(start.inference_stats.success.ns);
    expect(after.inference_stats.queue.ns - start.inference_stats.queue.ns).toBeGreaterThanOrEqual(2_000_000 - 1);
    expect(after.inference_stats.compute_input.ns).toBeGreaterThan(start.inference_stats.compute_input.ns);
    expect(after.last_inference).toBeGreaterThan(Date.now() - 600_000);
    // One execution of each batch size that ran (2 rows, then 1), in Triton's InferBatchStatistics shape.
    const executions = (stats: JsonObject, size: number) =>
      (stats.batch_stats as JsonObject[]).find((entry) => entry.batch_size === size)?.compute_infer.count ?? 0;
    expect(executions(after, 2) - executions(start, 2)).toBe(1);
    expect(executions(after, 1) - executions(start, 1)).toBe(1);
    expect((after.batch_stats as JsonObject[]).map((entry) => entry.batch_size)).toEqual(
      [...(after.batch_stats as JsonObject[]).map((entry) => entry.batch_size as number)].sort((a, b) => a - b),
    );
    for (const entry of after.batch_stats as JsonObject[]) {
      expect(entry).toEqual({
        batch_size: expect.any(Number),
        compute_input: { count: entry.compute_infer.count, ns: 0 },
        compute_infer: { count: expect.any(Number), ns: expect.any(Number) },
        compute_output: { count: entry.compute_infer.count, ns: 0 },
      });
    }
    expect(after.batch_stats.find((entry: JsonObject) => entry.batch_size === 2).compute_infer.ns).toBeGreaterThan(0);
    const all = (await getJson("/v2/models/stats")).json.model_stats as JsonObject[];
    expect(all.map((entry) => entry.name)).toEqual(["trt-embeddings", "trt-sentiment"]);
    expect((await getJson("/v2/models/nope/stats")).status).toBe(404);
    expect((await getJson("/v2/models/trt-sentiment/versions/v9/stats")).status).toBe(404);
  });

  it("POST /v2/repository/index lists the served models; load of a served model is 200, anything else 400", async () => {
    const index = await getJson("/v2/repository/index", { method: "POST", body: "{}" });
    expect(index.status).toBe(200);
    // Versions as the statistics name them (Triton's integers), and a model route takes that integer too.
    expect(index.json).toEqual([
      { name: "trt-embeddings", version: "1", state: "READY", reason: "" },
      { name: "trt-sentiment", version: "1", state: "READY", reason: "" },
    ]);
    const stats = (await getJson("/v2/models/stats")).json.model_stats as JsonObject[];
    expect(stats.map((entry) => entry.version)).toEqual((index.json as JsonObject[]).map((entry) => entry.version));
    expect((await fetch(`${server.url}/v2/models/trt-sentiment/versions/1/ready`)).status).toBe(200);
    expect((await getJson("/v2/models/trt-sentiment/versions/1")).json).toMatchObject({ name: "trt-sentiment", versions: ["v7"] });
    expect((await getJson("/v2/models/trt-sentiment/versions/2")).status).toBe(404);
    expect((await getJson("/v2/repository/index", { method: "POST", body: '{"ready": true}' })).json).toHaveLength(2);
    expect((await getJson("/v2/repository/index", { method: "POST", body: '{"bogus": 1}' })).status).toBe(400);
    expect((await getJson("/v2/repository/models/trt-embeddings/load", { method: "POST" })).status).toBe(200);
    const load = await getJson("/v2/repository/models/other/load", { method: "POST" });
    expect(load).toMatchObject({ status: 400, json: { error: expect.stringMatching(/fixed set of models.*--model other/) } });
    expect((await getJson("/v2/repository/models/trt-embeddings/unload", { method: "POST" })).status).toBe(400);
  });

  it("a wrong HTTP method is 405 with a JSON error and an Allow header", async () => {
    const cases: [string, string, string][] = [
      ["GET", "/v2/models/trt-embeddings/infer", "POST"],
      ["POST", "/v2/models/trt-embeddings", "GET"],
      ["DELETE", "/v2/models/trt-embeddings/config", "GET"],
      ["PUT", "/v2/health/ready", "GET"],
      ["POST", "/v2", "GET"],
      ["POST", "/v2/models/stats", "GET"],
      ["GET", "/v2/repository/index", "POST"],
      ["POST", "/v2/models/nope/ready", "GET"],
    ];
    for (const [method, path, allow] of cases) {
      const { status, json, headers } = await getJson(path, { method });
      expect({ path, method, status }).toEqual({ path, method, status: 405 });
      expect(headers.get("allow")).toBe(allow);
      expect(json.error).toContain(`takes ${allow}, not ${method}`);
    }
    expect((await getJson("/v2/nothing")).status).toBe(404);
  });

  it("classification (class_count) on a classifier returns Triton's score:index:label strings, best first", async () => {
    const outputs = [{ name: "probabilities", parameters: { classification: 2, binary_data: false } }];
    const { status, json } = await getJson("/v2/models/trt-sentiment/infer", {
      method: "POST",
      body: textRequest(["a b c d e", "short"], outputs),
    });
    expect(status).toBe(200);
    const [output] = json.outputs;
    expect(output).toMatchObject({ name: "probabilities", datatype: "BYTES", shape: [2, 2] });
    // The double's first row (7 tokens) is "long" at softmax(0, 2), the second "short".
    expect(output.data).toEqual(["0.880797:1:long", "0.119203:0:short", "0.880797:0:short", "0.119203:1:long"]);
    const top1 = await getJson("/v2/models/trt-sentiment/infer", {
      method: "POST",
      body: textRequest(["a"], [{ name: "logits", parameters: { classification: 1 } }]),
    });
    expect(top1.json.outputs[0]).toMatchObject({ shape: [1, 1], data: ["2.000000:0:short"] });
  });

  it("classification is refused with 400 for an embedding model, a non-score output and a bad count", async () => {
    const refuse = async (agent: string, outputs: unknown[]) =>
      getJson(`/v2/models/${agent}/infer`, { method: "POST", body: textRequest(["a b"], outputs) });
    expect(await refuse("trt-embeddings", [{ name: "sentence_embedding", parameters: { classification: 3 } }])).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/embedding model; the classification extension/) },
    });
    expect(await refuse("trt-sentiment", [{ name: "label", parameters: { classification: 1 } }])).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/applies to "logits" or "probabilities"/) },
    });
    expect(await refuse("trt-sentiment", [{ name: "logits", parameters: { classification: 0 } }])).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/positive integer/) },
    });
  });
});

describe("metrics", () => {
  it("Triton's series exist at 0 for every served model and version before any request", async () => {
    const fresh = new WorkerMetrics();
    const idle = doubleModel({ agent: "idle", version: "v3", kind: "embedding" });
    fresh.versionServing(idle.evidence);
    const other = await startInProcessServer({ endpoints: endpointSet([directEndpoint(idle)]), workerMetrics: fresh });
    try {
      const text = await (await fetch(other.metricsUrl)).text();
      for (const name of [
        "nv_inference_request_success",
        "nv_inference_request_duration_us",
        "nv_inference_pending_request_count",
        "nv_inference_count",
        "nv_inference_exec_count",
        "nv_inference_queue_duration_us",
        "nv_inference_compute_input_duration_us",
        "nv_inference_compute_infer_duration_us",
        "nv_inference_compute_output_duration_us",
        "trtforge_inference_request_success_total",
        "trtforge_inference_pending_request_count",
      ]) {
        expect(text).toContain(`${name}{model="idle",version="v3"} 0`);
      }
      expect(text).toContain('trtforge_inference_tokenization_duration_seconds_count{model="idle",version="v3"} 0');
      expect(text).toContain('trtforge_inference_input_tokens_count{model="idle",version="v3"} 0');
    } finally {
      await other.close();
    }
  });

  it("counts requests under Triton's names and units, with tokenization time and input lengths", async () => {
    const response = await fetch(`${server.url}/v2/models/trt-embeddings/infer`, { method: "POST", body: textRequest(["one two three"]) });
    expect(response.status).toBe(200);
    const text = await (await fetch(server.metricsUrl)).text();
    expect(text).toMatch(/nv_inference_request_success\{model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_request_duration_us\{model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_count\{model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).toMatch(/nv_inference_compute_infer_duration_us\{model="trt-embeddings",version="v1"\} \d/);
    // "one two three" is 5 tokens with [CLS]/[SEP]: the le="8" bucket has it.
    expect(text).toMatch(/trtforge_inference_input_tokens_bucket\{le="8",model="trt-embeddings",version="v1"\} [1-9]/);
    expect(text).toMatch(/trtforge_inference_tokenization_duration_seconds_count\{model="trt-embeddings",version="v1"\} [1-9]/);
  });

  it("6,000 requests to random unknown model names leave /metrics' size flat", async () => {
    const random = () => `m-${Math.random().toString(36).slice(2)}`;
    const body = textRequest(["x"]);
    const send = async (count: number) => {
      let next = 0;
      const client = async () => {
        while (next < count) {
          next += 1;
          const response = await fetch(`${server.url}/v2/models/${random()}/infer`, { method: "POST", body });
          expect(response.status).toBe(404);
          await response.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
    };
    await send(100);
    const before = (await (await fetch(server.metricsUrl)).text()).length;
    await send(6000);
    const after = await (await fetch(server.metricsUrl)).text();
    // The counters' digits may grow (100 → 6100); no series is added.
    expect(after.length - before).toBeLessThan(64);
    expect(after).toMatch(/nv_inference_request_failure\{model="_unknown",version="",reason="not_found"\} 6100/);
    expect(after).not.toMatch(/model="m-/);
  }, 300_000);
});
