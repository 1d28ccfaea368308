#!/usr/bin/env node
// GPU serving benchmark and checks (issue 23), for a host with a GPU, ONNX Runtime's CUDA provider
// (scripts/setup-ort-cuda.sh) and a published version with model.gpu.onnx (build-engine --gpu-serving fp16):
//   serve-engine   the real CLI, one worker pinned to the GPU, --require-gpu --onnx-variant gpu, on
//                  loopback; one article per request (BYTES text, JSON), clients 1 to 64 spread over
//                  client threads so the load generator is not the limit
//   single         one 128-token article alone, sequential requests: p50/p99 over HTTP
//   accuracy       the 1,000 articles' served sentence embeddings, written for benchmarks/serve_torch_gpu.py
//   restart        the worker SIGKILLed: it comes back on the same GPU (nvidia-smi's compute apps)
//   drain          SIGTERM: exit 0 and no process of ours left on the GPU
//   floor          the same version opened in this process through @trtforge/runtime on the CUDA
//                  provider (no HTTP, no IPC), text in: tokenization and batches of 1, 32 and 64
// Results: one JSON file (--out); a table on stdout.
//
//   node benchmarks/serve-gpu.mjs --cli DIR --store-root STORE --agent trt-embeddings --texts articles.jsonl \
//     --out logs/benchmarks/serve-gpu.json [--emb-out served.f32] [--clients 1,2,4,8,16,32,64]
import { execFile, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const run = promisify(execFile);

// ---- client thread: `connections` loops, each taking the next article until `count` are sent ----
if (!isMainThread) {
  const { url, texts, count, connections, keep } = workerData;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  const embeddings = keep ? new Array(count) : undefined;
  let next = 0;
  let failures = 0;
  const one = (text) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }],
        outputs: [{ name: "sentence_embedding" }],
      });
      const req = request(
        `${url}/v2/models/${workerData.agent}/infer`,
        { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const t = performance.now();
      const res = await one(texts[i % texts.length]);
      latencies.push(performance.now() - t);
      if (res.status !== 200) {
        failures++;
        continue;
      }
      if (embeddings) embeddings[i] = JSON.parse(res.body).outputs[0].data;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  parentPort.postMessage({ seconds: (performance.now() - start) / 1000, latencies, failures, embeddings });
  agent.destroy();
} else {
  await main();
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** count requests over `clients` connections spread over up to `threads` client threads. */
async function load(url, agent, texts, count, clients, threads, keep = false) {
  const t = Math.min(threads, clients);
  const parts = Array.from({ length: t }, (_, k) => ({
    connections: Math.floor(clients / t) + (k < clients % t ? 1 : 0),
    texts: keep ? texts.slice(0) : texts,
  }));
  const perThread = parts.map((p) => Math.round((count * p.connections) / clients));
  const start = performance.now();
  const results = await Promise.all(
    parts.map(
      (p, k) =>
        new Promise((resolve, reject) => {
          // With keep, each thread embeds its own contiguous slice of the texts (in order).
          const offset = perThread.slice(0, k).reduce((a, b) => a + b, 0);
          const slice = keep ? texts.slice(offset, offset + perThread[k]) : texts;
          const w = new Worker(new URL(import.meta.url), {
            workerData: { url, agent, texts: slice, count: perThread[k], connections: p.connections, keep },
          });
          w.once("message", resolve);
          w.once("error", reject);
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  const latencies = results.flatMap((r) => r.latencies);
  const sent = perThread.reduce((a, b) => a + b, 0);
  return {
    clients,
    client_threads: t,
    requests: sent,
    failures: results.reduce((a, r) => a + r.failures, 0),
    seconds,
    articles_per_s: sent / seconds,
    p50_ms: percentile(latencies, 50),
    p90_ms: percentile(latencies, 90),
    p99_ms: percentile(latencies, 99),
    embeddings: keep ? results.flatMap((r) => r.embeddings) : undefined,
  };
}

async function gpuApps() {
  const { stdout } = await run("nvidia-smi", ["--query-compute-apps=pid,gpu_uuid,used_memory", "--format=csv,noheader,nounits"]);
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [pid, uuid, mib] = line.split(",").map((s) => s.trim());
      return { pid: Number(pid), gpu_uuid: uuid, used_mib: Number(mib) };
    });
}

async function gpuMemory() {
  const { stdout } = await run("nvidia-smi", ["--query-gpu=uuid,name,memory.used,memory.total", "--format=csv,noheader,nounits"]);
  const [uuid, name, used, total] = stdout
    .trim()
    .split("\n")[0]
    .split(",")
    .map((s) => s.trim());
  return { uuid, name, used_mib: Number(used), total_mib: Number(total) };
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitReady(url, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

async function inferOne(url, agent, text) {
  const res = await fetch(`${url}/v2/models/${agent}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }],
      outputs: [{ name: "sentence_embedding" }],
    }),
  });
  return { status: res.status, body: await res.json() };
}

/** A text of exactly `tokens` tokens (specials included) from real articles, by the model's own tokenizer. */
function textOfTokens(tokenizer, texts, tokens) {
  const words = texts.join(" ").split(/\s+/);
  for (let start = 0; start < 200; start++) {
    for (let n = tokens / 2; n < tokens * 2; n++) {
      const text = words.slice(start, start + n).join(" ");
      const len = tokenizer.encodeBatch([text], { maxLength: 100_000, padding: "longest", truncation: false }).seqLen;
      if (len === tokens) return text;
      if (len > tokens) break;
    }
  }
  throw new Error(`no ${tokens}-token text found`);
}

function metricSum(text, name, label) {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && (label === undefined || line.includes(label))) sum += Number(line.split(" ").pop());
  }
  return sum;
}

async function main() {
  const { values } = parseArgs({
    options: {
      cli: { type: "string" },
      "store-root": { type: "string" },
      agent: { type: "string", default: "trt-embeddings" },
      texts: { type: "string" },
      count: { type: "string", default: "1000" },
      clients: { type: "string", default: "1,2,4,8,16,32,64" },
      requests: { type: "string", default: "4000" },
      "client-threads": { type: "string", default: "4" },
      single: { type: "string", default: "500" },
      "emb-out": { type: "string" },
      "text128-out": { type: "string" },
      out: { type: "string" },
      "serve-args": { type: "string", default: "" },
      "skip-floor": { type: "boolean", default: false },
      // A dry run of this script on a host without a GPU (a fake nvidia-smi on PATH): the CPU serves.
      "cpu-smoke": { type: "boolean", default: false },
    },
  });
  const cliDir = resolve(values.cli);
  const storeRoot = values["store-root"];
  const agentName = values.agent;
  const cliRequire = createRequire(join(cliDir, "package.json"));
  const runtimeEntry = cliRequire.resolve("@trtforge/runtime");
  const runtime = await import(pathToFileURL(runtimeEntry).href);
  const runtimeRequire = createRequire(runtimeEntry);
  const { loadTokenizer } = await import(pathToFileURL(runtimeRequire.resolve("@trtforge/tokenizer")).href);
  const texts = readFileSync(values.texts, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).text)
    .slice(0, Number(values.count));
  const versionDir = join(storeRoot, agentName, "current");
  const tokenizer = await loadTokenizer(join(versionDir, "tokenizer"));
  const text128 = textOfTokens(tokenizer, texts, 128);
  if (values["text128-out"]) await writeFile(values["text128-out"], text128);
  const result = { host: {}, gpu: await gpuMemory(), articles: texts.length, text128_tokens: 128 };
  result.host.node = process.version;

  // ---- serve-engine on the GPU ----
  const args = [
    join(cliDir, "bin/serve-engine.js"),
    "--store-root",
    storeRoot,
    "--model",
    agentName,
    "--http-port",
    "0",
    "--metrics-port",
    "0",
    "--json",
    ...(values["cpu-smoke"] ? [] : ["--require-gpu", "--onnx-variant", "gpu"]),
    ...values["serve-args"].split(" ").filter(Boolean),
  ];
  const started = performance.now();
  const server = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  // A failure below must not leave the server (and its worker on the GPU) running.
  process.on("exit", () => server.kill("SIGKILL"));
  let stderr = "";
  server.stderr.on("data", (c) => {
    stderr += c;
    process.stderr.write(c);
  });
  const serving = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (c) => {
      out += c;
      const line = out.split("\n").find((l) => l.includes('"serving"'));
      if (line) resolve(JSON.parse(line).serving);
    });
    server.once("exit", (code) => reject(new Error(`serve-engine exited ${code} before serving:\n${stderr.slice(-4000)}`)));
  });
  result.startup_seconds = (performance.now() - started) / 1000;
  const url = serving.url;
  result.workers = serving.workers;
  const metadata = await (await fetch(`${url}/v2/models/${agentName}`)).json();
  result.model_metadata = metadata.parameters;
  const first = await inferOne(url, agentName, texts[0]);
  result.response_parameters = first.body.parameters;
  result.apps_after_start = await gpuApps();

  // One 128-token article alone.
  for (let i = 0; i < 50; i++) await inferOne(url, agentName, text128);
  const single = [];
  for (let i = 0; i < Number(values.single); i++) {
    const t = performance.now();
    const r = await inferOne(url, agentName, text128);
    single.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`single request: ${r.status} ${JSON.stringify(r.body)}`);
  }
  result.single_128 = {
    requests: single.length,
    p50_ms: percentile(single, 50),
    p90_ms: percentile(single, 90),
    p99_ms: percentile(single, 99),
  };
  const metrics1 = await (await fetch(serving.metrics_url)).text();

  // Accuracy pass: every article once, embeddings kept in order.
  const acc = await load(url, agentName, texts, texts.length, 8, 4, true);
  if (acc.failures > 0 || acc.embeddings.some((e) => !e)) throw new Error(`accuracy pass: ${acc.failures} failures`);
  if (values["emb-out"]) {
    const flat = new Float32Array(acc.embeddings.flat());
    await writeFile(values["emb-out"], Buffer.from(flat.buffer));
  }
  delete acc.embeddings;
  result.accuracy_pass = acc;

  // Load: concurrency sweep.
  await load(url, agentName, texts, 1000, 16, 4); // warm-up at every batch size the sweep will see
  result.sweep = [];
  const workerPid0 = serving.workers[0]?.pid;
  for (const c of values.clients.split(",").map(Number)) {
    // Where the time goes: CPU seconds per wall second of the supervisor (HTTP, JSON, IPC) and of the worker (protocol, tokenizer, ORT).
    const cpu0 = { supervisor: cpuSeconds(server.pid), worker: cpuSeconds(workerPid0) };
    const m0 = await (await fetch(serving.metrics_url)).text();
    const r = await load(url, agentName, texts, Math.max(Number(values.requests), c * 50), c, Number(values["client-threads"]));
    delete r.embeddings;
    const m1 = await (await fetch(serving.metrics_url)).text();
    const d = (name) => metricSum(m1, name) - metricSum(m0, name);
    r.cpu_share = {
      supervisor: (cpuSeconds(server.pid) - cpu0.supervisor) / r.seconds,
      worker: (cpuSeconds(workerPid0) - cpu0.worker) / r.seconds,
    };
    r.server = {
      batches: d("trtforge_inference_exec_count_total"),
      mean_batch_rows: d("trtforge_inference_count_total") / d("trtforge_inference_exec_count_total"),
      mean_compute_ms:
        (1000 * d("trtforge_inference_compute_duration_seconds_sum")) / d("trtforge_inference_compute_duration_seconds_count"),
      mean_queue_ms: (1000 * d("trtforge_inference_queue_duration_seconds_sum")) / d("trtforge_inference_queue_duration_seconds_count"),
      mean_request_ms:
        (1000 * d("trtforge_inference_request_duration_seconds_sum")) / d("trtforge_inference_request_duration_seconds_count"),
    };
    result.sweep.push(r);
    console.error(
      `clients ${c}: ${r.articles_per_s.toFixed(0)} articles/s, p50 ${r.p50_ms.toFixed(2)} ms, p99 ${r.p99_ms.toFixed(2)} ms, failures ${r.failures}`,
    );
  }
  result.apps_under_load = await gpuApps();
  const metrics2 = await (await fetch(serving.metrics_url)).text();
  const compute = (m) => ({
    sum: metricSum(m, "trtforge_inference_compute_duration_seconds_sum"),
    count: metricSum(m, "trtforge_inference_compute_duration_seconds_count"),
    queue_sum: metricSum(m, "trtforge_inference_queue_duration_seconds_sum"),
    queue_count: metricSum(m, "trtforge_inference_queue_duration_seconds_count"),
    rows: metricSum(m, "trtforge_inference_count_total"),
  });
  result.server_metrics = { after_single: compute(metrics1), after_sweep: compute(metrics2) };
  result.metrics_model_info = metrics2
    .split("\n")
    .filter((l) => l.startsWith("trtforge_model_info") || l.startsWith("trtforge_gpu_memory_used_bytes"));

  // Restart: SIGKILL the worker; it must come back on the same GPU.
  const workerPid = result.workers[0]?.pid;
  const before = await gpuApps();
  process.kill(workerPid, "SIGKILL");
  const killedAt = performance.now();
  await sleep(300);
  const ready = await waitReady(url, 120_000);
  const after = await gpuApps();
  const again = await inferOne(url, agentName, texts[1]);
  result.restart = {
    killed_pid: workerPid,
    apps_before: before,
    apps_after: after,
    ready_again: ready,
    seconds_to_ready: (performance.now() - killedAt) / 1000,
    killed_pid_gone: !after.some((a) => a.pid === workerPid),
    new_worker_on_gpu: after.some((a) => a.pid !== workerPid && a.gpu_uuid === result.gpu.uuid),
    status_after: again.status,
    parameters_after: again.body.parameters,
  };

  // Drain: SIGTERM, exit 0, nothing of ours left on the GPU.
  const exit = new Promise((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
  server.kill("SIGTERM");
  result.sigterm = { exit: await exit };
  await sleep(500);
  result.sigterm.apps_after = await gpuApps();
  result.sigterm.gpu_after = await gpuMemory();

  // ---- the in-process floor: the same version on the CUDA provider, text in ----
  if (!values["skip-floor"]) {
    const model = await runtime.openServedModel(
      { storeRoot, agent: agentName },
      values["cpu-smoke"] ? {} : { onnxCuda: true, requireGpu: true, onnxVariant: "gpu" },
    );
    result.floor = { evidence: model.evidence, runs: [] };
    const embed = (batch) => model.run(model.tokenize(batch, { truncate: true }));
    for (let i = 0; i < 20; i++) await embed([text128]);
    const lat = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await embed([text128]);
      lat.push(performance.now() - t);
    }
    const tokT = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      model.tokenize([text128], { truncate: true });
      tokT.push(performance.now() - t);
    }
    result.floor.single_128 = { p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), tokenize_p50_ms: percentile(tokT, 50) };
    for (const batch of values["cpu-smoke"] ? [32] : [32, 64]) {
      for (let i = 0; i < texts.length; i += batch) await embed(texts.slice(i, i + batch)); // warm-up
      const t = performance.now();
      let tokenizeMs = 0;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < texts.length; i += batch) {
          const t0 = performance.now();
          const rows = model.tokenize(texts.slice(i, i + batch), { truncate: true });
          tokenizeMs += performance.now() - t0;
          await model.run(rows);
        }
      }
      const seconds = (performance.now() - t) / 1000;
      result.floor.runs.push({
        batch,
        articles: 3 * texts.length,
        seconds,
        articles_per_s: (3 * texts.length) / seconds,
        tokenize_share: tokenizeMs / 1000 / seconds,
      });
    }
    await model.dispose();
  }

  const best = result.sweep.reduce((a, b) => (b.articles_per_s > a.articles_per_s ? b : a));
  result.best = { clients: best.clients, articles_per_s: best.articles_per_s };
  const out = JSON.stringify(result, null, 2);
  if (values.out) await writeFile(values.out, `${out}\n`);
  console.log(
    `single 128-token article over HTTP: p50 ${result.single_128.p50_ms.toFixed(2)} ms, p99 ${result.single_128.p99_ms.toFixed(2)} ms`,
  );
  console.log("clients | articles/s | p50 ms | p99 ms");
  for (const r of result.sweep)
    console.log(`${r.clients} | ${r.articles_per_s.toFixed(0)} | ${r.p50_ms.toFixed(2)} | ${r.p99_ms.toFixed(2)}`);
  if (result.floor) for (const r of result.floor.runs) console.log(`floor batch ${r.batch}: ${r.articles_per_s.toFixed(0)} articles/s`);
  process.exit(0);
}
