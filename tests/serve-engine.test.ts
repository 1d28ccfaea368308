import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArticles } from "@trtforge/articles";
import { agNewsCsv } from "./support/ag-news.js";
import {
  AGENT,
  inferTexts,
  loadLoop,
  publishMiniLm,
  republish,
  rollback,
  ROOT,
  startServeEngine,
  waitFor,
  type PublishedStore,
  type ServeProcess,
} from "./support/serve-engine.js";

const run = promisify(execFile);

/** Sends an infer request's headers and the start of its body, then nothing; resolves with all the server sent back. */
function stalledUpload(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(`POST /v2/models/${AGENT}/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"inp`),
    );
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}
let published: PublishedStore;
let texts: string[];

beforeAll(async () => {
  published = await publishMiniLm();
  texts = (await readArticles(agNewsCsv())).articles.slice(0, 64).map((article) => article.text);
}, 900_000);
afterAll(async () => published?.cleanup());

describe("serve-engine on a store published by build-engine (ONNX Runtime fallback: the engine is a marker)", () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServeEngine(published.store);
  }, 120_000);
  afterAll(async () => server?.stop());

  it("works with the real tritonclient: health, metadata, binary and JSON text, requested outputs, errors; embeddings equal onnxruntime on model.onnx", async () => {
    const python = join(ROOT, ".venv/bin/python");
    const { stdout } = await run(
      python,
      [
        join(ROOT, "tests/serve/tritonclient_check.py"),
        "--url",
        server.url.replace(/^http:\/\//, ""),
        "--model",
        AGENT,
        "--version-dir",
        published.versionPath,
        "--articles",
        agNewsCsv(),
      ],
      { timeout: 120_000 },
    );
    // The checker's summary, read field by field below.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const summary = JSON.parse(stdout) as Record<string, any>;
    expect(summary.articles).toBe(8);
    expect(summary.binary.cosine_min).toBeGreaterThanOrEqual(0.9999);
    expect(summary.json.max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(summary.evidence).toMatchObject({
      agent: AGENT,
      version: published.version,
      backend: "onnxruntime",
      fallback_reason: "ENGINE_IS_MARKER",
      model_id: "sentence-transformers/all-MiniLM-L6-v2",
    });
    expect(summary.errors.too_long.status).toBe("400");
    expect(summary.errors.unknown_model.status).toBe("404");
    expect(summary.errors.unknown_version.status).toBe("404");
  }, 180_000);

  it("runs the README's tritonclient snippet as written (only its address pointed at this server)", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const snippet = /<!-- tritonclient-snippet[^>]*-->\n```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toContain('InferenceServerClient("127.0.0.1:8000")');
    const code = snippet!.replace("127.0.0.1:8000", server.url.replace(/^http:\/\//, ""));
    const { stdout } = await run(join(ROOT, ".venv/bin/python"), ["-c", code], { timeout: 60_000 });
    expect(stdout.split("\n").slice(0, 2)).toEqual(["(2, 384)", "onnxruntime"]);
  }, 60_000);

  it("answers bad input over HTTP with the protocol's errors", async () => {
    const post = async (body: string | Buffer, headers: Record<string, string> = {}, path = `/v2/models/${AGENT}/infer`) => {
      const response = await fetch(`${server.url}${path}`, { method: "POST", body, headers });
      return { status: response.status, error: ((await response.json()) as { error: string }).error };
    };
    const text = (data: unknown[], extra: Record<string, unknown> = {}) =>
      JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [data.length], data }], ...extra });
    expect(await post("{not json")).toMatchObject({ status: 400, error: expect.stringMatching(/not valid JSON/) });
    expect(await post(JSON.stringify({ inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1] }] }))).toMatchObject({
      status: 400,
    });
    expect(await post(JSON.stringify({ inputs: [{ name: "input_ids", datatype: "INT64", shape: [2], data: [1, 2] }] }))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/shape \[rows, tokens\]/),
    });
    expect(await post(text([]))).toMatchObject({ status: 400, error: expect.stringMatching(/empty batch/) });
    expect(await post(text(texts.slice(0, 17)))).toMatchObject({ status: 400, error: expect.stringMatching(/17 rows .* at most 16/) });
    expect(await post(text(["word ".repeat(300)]))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/maximum sequence length 128.*truncate/),
    });
    expect(await post(text(["a"], { input: [] }))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/unknown field\(s\) "input"/),
    });
    const header = Buffer.from(
      JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 50 } }] }),
    );
    const binary = Buffer.from([5, 0, 0, 0, 104, 101, 108, 108, 111]);
    expect(await post(Buffer.concat([header, binary]), { "inference-header-content-length": String(header.length) })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/binary_data_size 50 reaches past the end/),
    });
    expect(await post(text(["a"]), {}, `/v2/models/${AGENT}/versions/nope/infer`)).toMatchObject({ status: 404 });
    expect(await post(text(["a"]), {}, "/v2/models/nope/infer")).toMatchObject({ status: 404 });

    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/v2/models/${AGENT}/infer`,
        { method: "POST", headers: { "content-length": 100 * 1024 * 1024 } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" || err.code === "ECONNRESET" ? undefined : reject(err)));
      req.end(Buffer.alloc(100 * 1024 * 1024));
    });
    expect(status).toBe(413);
    expect(Date.now() - started).toBeLessThan(5000);

    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(metrics).toMatch(/trtforge_inference_request_failure_total\{model="trt-embeddings",reason="bad_request"\} [1-9]/);
    expect(metrics).toMatch(/trtforge_inference_request_failure_total\{model="trt-embeddings",reason="payload_too_large"\} 1/);
    expect(metrics).toMatch(
      /trtforge_model_info\{model="trt-embeddings",version="[^"]+",backend="onnxruntime",precision="fp32",fallback_reason="ENGINE_IS_MARKER",gpu_uuid=""\} 1/,
    );
    expect(metrics).toMatch(/trtforge_model_fallback_total\{model="trt-embeddings",version="[^"]+",reason="ENGINE_IS_MARKER"\} 1/);
    expect(metrics).toMatch(/trtforge_inference_exec_count_total\{model="trt-embeddings",version="[^"]+"\} [1-9]/);
    expect(metrics).toMatch(/trtforge_inference_batch_size_count/);
    // No NVIDIA driver here: no GPU series at all, not zeros.
    expect(metrics).not.toMatch(/trtforge_gpu_memory_used_bytes\{/);
  }, 60_000);
});

describe("a lone worker's death", () => {
  it("answers 503 and reports not ready until the worker is back, then serves again", async () => {
    const server = await startServeEngine(published.store, ["--cpu-workers", "1"]);
    try {
      process.kill(server.workers[0]!.pid, "SIGKILL");
      await waitFor("the server to report not ready", async () => (await fetch(`${server.url}/v2/health/ready`)).status === 503, 10_000);
      const during = await inferTexts(server.url, ["while restarting"]);
      expect(during.status).toBe(503);
      expect(during.error).toMatch(/worker cpu0 is not ready \((exiting|waiting|starting)\); retry shortly/);
      await waitFor("the worker to be back", async () => (await fetch(`${server.url}/v2/health/ready`)).status === 200, 60_000);
      expect((await inferTexts(server.url, ["after the restart"])).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe("faults under load (2 CPU workers)", () => {
  it("SIGKILL of a worker: its requests get 503 at once, the worker comes back, no other request fails", async () => {
    const server = await startServeEngine(published.store, ["--cpu-workers", "2"]);
    try {
      const load = loadLoop(server.url, 4, texts);
      await waitFor("some answers", async () => load.answers.length >= 8);
      const victim = server.workers[0]!;
      const killedAt = Date.now();
      process.kill(victim.pid, "SIGKILL");
      await waitFor("the killed worker to be restarted", async () =>
        /trtforge_worker_restarts_total\{worker="cpu0"\} 1/.test(await (await fetch(server.metricsUrl)).text()),
      );
      await waitFor("the restarted worker to be ready", async () =>
        /trtforge_worker_ready\{worker="cpu0"\} 1/.test(await (await fetch(server.metricsUrl)).text()),
      );
      const afterRestart = load.answers.length;
      await waitFor("answers after the restart", async () => load.answers.length >= afterRestart + 8);
      const answers = await load.stop();
      const failed = answers.filter((answer) => answer.status !== 200);
      for (const answer of failed) {
        expect(answer.status, answer.error).toBe(503);
        expect(answer.error).toMatch(/worker cpu0 exited \(signal SIGKILL\)/);
        expect(answer.at + answer.ms - killedAt).toBeLessThan(2000);
      }
      // The requests in flight on the killed worker, and no more: four clients keep each worker busy.
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(failed.length).toBeLessThanOrEqual(4);
      expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(16);
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 180_000);

  it("hot swap under continuous load: publish a new version, then roll back; no request fails, each names the version that served it", async () => {
    const server = await startServeEngine(published.store, ["--cpu-workers", "2"]);
    try {
      const load = loadLoop(server.url, 3, texts);
      await waitFor("answers from the first version", async () => load.answers.some((answer) => answer.version === published.version));
      const next = await republish(published.dir, published.store, published.versionPath, "v-next");
      await waitFor(
        "answers from the new version",
        async () => load.answers.slice(-6).every((answer) => answer.version === next.version) && load.answers.length > 6,
        90_000,
      );
      const swapped = await (await fetch(server.metricsUrl)).text();
      expect(swapped).toMatch(/trtforge_model_info\{model="trt-embeddings",version="v-next",backend="onnxruntime"[^}]*\} 1/);
      expect(swapped).not.toMatch(new RegExp(`trtforge_model_info\\{model="trt-embeddings",version="${published.version}"`));
      const metadata = (await (await fetch(`${server.url}/v2/models/${AGENT}`)).json()) as {
        versions: string[];
        parameters: { version: string };
      };
      expect(metadata.versions).toEqual(["v-next"]);
      expect(metadata.parameters.version).toBe("v-next");
      rollback(published.store);
      await waitFor(
        "answers from the rolled-back version",
        async () => load.answers.slice(-6).every((answer) => answer.version === published.version),
        90_000,
      );
      const answers = await load.stop();
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      const versions = answers.map((answer) => answer.version);
      expect(new Set(versions)).toEqual(new Set([published.version, next.version]));
      const firstNext = versions.indexOf(next.version);
      const lastNext = versions.lastIndexOf(next.version);
      expect(versions.slice(0, firstNext).every((version) => version === published.version)).toBe(true);
      expect(versions.slice(lastNext + 1).every((version) => version === published.version)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it("SIGTERM: stops taking requests, finishes those in flight, answers a stalled upload 503 without waiting for it, exits 0", async () => {
    // One article per request and a 3 s batching delay: the six requests wait together in the queue
    // (6 rows < the profile's 16), so the poll below sees them all pending however fast the machine.
    // A drain timeout and body timeout far past this test's own: only a drain that does not wait for
    // the stalled upload lets the server exit in time.
    const server = await startServeEngine(published.store, [
      "--cpu-workers",
      "1",
      "--max-queue-delay-ms",
      "3000",
      "--drain-timeout-ms",
      "600000",
      "--body-timeout-ms",
      "600000",
    ]);
    const stalled = stalledUpload(server.url);
    const inFlight = Array.from({ length: 6 }, (_, i) => inferTexts(server.url, texts.slice(i, i + 1)));
    const pending = /trtforge_inference_pending_request_count\{model="trt-embeddings",version="[^"]+"\} 6/;
    await waitFor("all six requests received", async () => pending.test(await (await fetch(server.metricsUrl)).text()), 10_000);
    server.child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect((await stalled).startsWith("HTTP/1.1 503")).toBe(true);
    expect((await inferTexts(server.url, ["late"])).status).toBe(0);
    expect(server.stderr()).not.toMatch(/"level":50/);
  }, 120_000);
});

describe("--ort-threads", () => {
  it("sets the worker's ONNX Runtime intra-op threads: 4 threads run 3 more pool threads than 1, and both serve", async () => {
    const workerThreads = async (threads: number) => {
      const server = await startServeEngine(published.store, ["--ort-threads", String(threads)]);
      try {
        expect((await inferTexts(server.url, ["thread count"])).status).toBe(200);
        return (await readdir(`/proc/${server.workers[0]!.pid}/task`)).length;
      } finally {
        await server.stop();
      }
    };
    const one = await workerThreads(1);
    const four = await workerThreads(4);
    // ONNX Runtime's pool runs threads - 1 threads beside the caller; the rest of the process is the same.
    expect(four - one).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
