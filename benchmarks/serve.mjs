#!/usr/bin/env node
// Serving benchmark (issue 12): 1,000 real AG News articles (held out from the build's calibration
// sample), all-MiniLM-L6-v2, side by side in one run:
//   serve-engine   the real CLI (packages/cli/bin/serve-engine.js, one CPU worker) on loopback, on
//                  the CPU-serving ONNX (model.cpu.onnx), the Q/DQ int8 ONNX and the fp32 ONNX of one
//                  published version; 1, 8 and 32 concurrent clients, one article per request
//                  (BYTES text, JSON), every response's sentence_embedding kept for the cosine check
//   floor          the same ONNX files in a bare onnxruntime-node session in its own process,
//                  tokenizing and running batches of 1, 8 and 32 (plus the fused-fp32 variant)
//   pytorch        JustNewsAgent's fallback: transformers + mean pooling (serve_torch.py, .venv),
//                  batches of 1, 8 and 32, the same thread count
// Each floor and PyTorch run is its own child process, so its peak RSS is its own; a server
// worker's peak RSS is its VmHWM. Results: a table on stdout and JSON under logs/benchmarks/.
//
//   build-engine --model .tools/models/all-MiniLM-L6-v2 --model-id sentence-transformers/all-MiniLM-L6-v2 \
//     --precision int8 --calibrate data/ag_news/test.csv --sequence-length 128 --max-batch 32 \
//     --marker --store-root /tmp/bench-store --work-dir /tmp/bench-work
//   node benchmarks/serve.mjs --store-root /tmp/bench-store [--agent trt-embeddings] [--count 1000]
//     [--clients 1,8,32] [--threads N] [--skip-server] [--skip-torch] [--sweep]
//     [--variants cpu,int8,fp32] [--serve-args "--max-queue-delay-ms 5"]
// The articles are splitArticles(test.csv, seed, calibration samples)'s held-out part: pass the
// build's --seed and --calibration-samples if they were not the defaults (0, 512).
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { request, Agent } from "node:http";
import { createRequire } from "node:module";
import { readF32, rowCosines } from "./embeddings.mjs";
import { inputOptions, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    "store-root": { type: "string" },
    agent: { type: "string", default: "trt-embeddings" },
    count: { type: "string", default: "1000" },
    clients: { type: "string", default: "1,8,32" },
    threads: { type: "string", default: String(availableParallelism()) },
    seed: { type: "string", default: "0" },
    "calibration-samples": { type: "string", default: "512" },
    "skip-server": { type: "boolean", default: false },
    "skip-torch": { type: "boolean", default: false },
    sweep: { type: "boolean", default: false },
    // Which ONNX files serve-engine serves (--onnx-variant values), and extra serve-engine flags.
    variants: { type: "string", default: "cpu,int8,fp32" },
    // Which floors run (first word of their names); fp32 always runs: it is the cosine reference.
    floors: { type: "string", default: "cpu-int8,cpu-fp32,qdq-int8,fp32,grouped" },
    "serve-args": { type: "string", default: "" },
    out: { type: "string" },
    python: { type: "string", default: process.env.TRTFORGE_PYTHON || join(root, ".venv/bin/python") },
    model: inputOptions.model,
    articles: inputOptions.articles,
    // Internal: one floor run in this (child) process.
    child: { type: "string" },
    onnx: { type: "string" },
    texts: { type: "string" },
    batch: { type: "string" },
    opt: { type: "string", default: "all" },
    arena: { type: "string", default: "on" },
    emb: { type: "string" },
    group: { type: "boolean", default: false },
  },
});

const SEQ = 128;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const summary = (latencies, count, seconds) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { articles: count, seconds, articles_per_s: count / seconds, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
};

/** The session options of the floor; the runtime should open its sessions the same way. */
export function floorSessionOptions(threads, opt = "all", arena = "on") {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: opt,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    enableCpuMemArena: arena === "on",
  };
}

async function floorChild() {
  // The root has no onnxruntime-node of its own: take the runtime package's, the one serve-engine runs
  // (resolved by name, so a deployed copy, as in scripts/cpu-bench-carry.sh's kit, works too).
  const { InferenceSession, Tensor } = createRequire(fileURLToPath(import.meta.resolve("@trtforge/runtime")))("onnxruntime-node");
  const { loadTokenizer } = await import("@trtforge/tokenizer");
  const texts = JSON.parse(await readFile(values.texts, "utf8"));
  const batch = Number(values.batch);
  const tokenizer = await loadTokenizer(values.model);
  const session = await InferenceSession.create(values.onnx, floorSessionOptions(Number(values.threads), values.opt, values.arena));
  // --group: each batch split as serve-engine's batcher splits it for ONNX Runtime (lengthGroups, by
  // the execution cost measured here as the runtime measures it when a model opens).
  const { lengthGroups, measureExecutionCost } = await import("@trtforge/runtime");
  const lengthOf = (text) => tokenizer.encodeBatch([text], { maxLength: SEQ, padding: "longest", truncation: true }).seqLen;
  const feedsOf = (tokens) => {
    const dims = [tokens.rows, tokens.seqLen];
    const feeds = {};
    for (const name of session.inputNames) {
      const data =
        name === "input_ids"
          ? tokens.inputIds
          : name === "attention_mask"
            ? tokens.attentionMask
            : (tokens.tokenTypeIds ?? new BigInt64Array(tokens.rows * tokens.seqLen));
      feeds[name] = new Tensor("int64", data, dims);
    }
    return feeds;
  };
  const cost = values.group
    ? await measureExecutionCost((tokens) => session.run(feedsOf(tokens)), { batch: Math.max(2, batch), seqLen: SEQ })
    : undefined;
  const runGrouped = async (rows) => {
    const sized = rows.map((text, index) => ({ text, index, rows: 1, seqLen: lengthOf(text) }));
    const out = new Float32Array(rows.length * 384);
    for (const group of lengthGroups(sized, (g) => g, cost)) {
      const data = await run(group.map((g) => g.text));
      group.forEach((g, k) => out.set(data.subarray(k * 384, (k + 1) * 384), g.index * 384));
    }
    return out;
  };
  const run = async (rows) => {
    const enc = tokenizer.encodeBatch(rows, { maxLength: SEQ, padding: "longest", truncation: true });
    const out = await session.run(feedsOf({ ...enc, rows: enc.batchSize }), ["sentence_embedding"]);
    return out.sentence_embedding.data;
  };
  const runBatch = values.group ? runGrouped : run;
  await runBatch(texts.slice(0, batch)); // warm-up
  const rssLoaded = process.memoryUsage().rss;
  const latencies = [];
  const embeddings = [];
  const start = performance.now();
  for (let i = 0; i < texts.length; i += batch) {
    const t = performance.now();
    embeddings.push(await runBatch(texts.slice(i, i + batch)));
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  if (values.emb) await writeFile(values.emb, Buffer.concat(embeddings.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength))));
  await session.release();
  process.stdout.write(
    `${JSON.stringify({ ...summary(latencies, texts.length, seconds), rss_loaded_bytes: rssLoaded, peak_rss_bytes: process.resourceUsage().maxRSS * 1024, ...(cost === undefined ? {} : { execution_cost: cost }) })}\n`,
  );
}

function runChild(command, args) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: root, maxBuffer: 64 << 20, env: { ...process.env, OMP_NUM_THREADS: values.threads, PYTHONPATH: join(root, "python") } },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${command} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-3000)}`));
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)));
      },
    );
  });
}

const cosines = (a, b, dim) => {
  const out = rowCosines(a, b, dim);
  return { cosine_mean: out.reduce((s, c) => s + c, 0) / out.length, cosine_min: Math.min(...out) };
};

// ---------- serve-engine ----------

function startServeEngine(storeRoot, agent, onnxVariant) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(root, "packages/cli/bin/serve-engine.js"),
        "--store-root",
        storeRoot,
        "--model",
        agent,
        "--http-port",
        "0",
        "--metrics-port",
        "0",
        "--cpu-workers",
        "1",
        "--onnx-variant",
        onnxVariant,
        ...values["serve-args"].split(" ").filter(Boolean),
        "--json",
      ],
      {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: "warn", CUDA_VISIBLE_DEVICES: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "",
      err = "";
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-8000);
    });
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ child, ...JSON.parse(line).serving });
    });
    child.on("exit", (code) => reject(new Error(`serve-engine exited (${code}) before serving:\n${err}`)));
  });
}

function postJson(agent, url, body) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `/v2/models/${agent}/infer`,
        method: "POST",
        agent: httpAgent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const httpAgent = new Agent({ keepAlive: true, maxSockets: 64 });

async function loadClients(agent, url, texts, clients) {
  const latencies = [];
  const embeddings = new Array(texts.length);
  let next = 0;
  let evidence;
  const client = async () => {
    for (let i = next++; i < texts.length; i = next++) {
      const body = JSON.stringify({
        parameters: { truncate: true },
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [texts[i]] }],
        outputs: [{ name: "sentence_embedding" }],
      });
      const t = performance.now();
      const reply = await postJson(agent, url, body);
      latencies.push(performance.now() - t);
      embeddings[i] = reply.outputs.find((o) => o.name === "sentence_embedding").data;
      evidence ??= reply.parameters;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - start) / 1000;
  return { ...summary(latencies, texts.length, seconds), embeddings: Float32Array.from(embeddings.flat()), evidence };
}

async function peakRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** A store with one agent per ONNX the server should run: the runtime's "auto" choice decides which. */
async function benchStore(storeRoot, agent, dir) {
  const { showVersion, publish } = await import("@trtforge/model-store");
  const reserved = ["created_at", "files", "file_count", "total_bytes", "publisher", "staging", "promotions"]; // the store's own keys
  const version = await showVersion({ root: storeRoot, agent });
  const files = (await readdir(version.path, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(version.path.length + 1))
    .filter((f) => f !== "manifest.json");
  const store = join(dir, "store");
  const source = (names) => names.map((f) => ({ path: f, sourcePath: join(version.path, f) }));
  // A version published before the tokenizer went into the store gets the model folder's.
  const tokenizer = files.some((f) => f.endsWith("tokenizer.json"))
    ? []
    : ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json"].map((f) => ({
        path: `tokenizer/${f}`,
        sourcePath: join(values.model, f),
      }));
  const metadata = Object.fromEntries(Object.entries(version.manifest.metadata).filter(([k]) => !reserved.includes(k)));
  // One copy of the version; serve-engine --onnx-variant picks which of its ONNX files the fallback serves.
  await publish({ root: store, agent: "bench", version: "v1", files: [...source(files), ...tokenizer], metadata });
  return { store, versionPath: version.path, version: version.version };
}

async function main() {
  if (values.child === "floor") return floorChild();
  if (!values["store-root"])
    throw new Error("pass --store-root <dir> holding a build-engine --precision int8 version (see the header of this file)");
  const threads = Number(values.threads);
  const count = Number(values.count);
  const clientCounts = values.clients.split(",").map(Number);
  const batches = clientCounts;
  const dir = await mkdtemp(join(tmpdir(), "trtforge-serve-bench-"));
  try {
    const { readArticles, splitArticles } = await import("@trtforge/articles");
    const articles = await readArticles(values.articles);
    const { heldOut } = splitArticles(articles, {
      seed: Number(values.seed),
      sampleSize: Number(values["calibration-samples"]),
      heldOutSize: count,
    });
    const texts = heldOut.map((a) => a.text);
    const textsFile = join(dir, "texts.json");
    await writeFile(textsFile, JSON.stringify(texts));
    await writeFile(join(dir, "texts.jsonl"), texts.map((text) => JSON.stringify({ text })).join("\n"));
    const bench = await benchStore(values["store-root"], values.agent, dir);
    const fusedFp32 = join(dir, "model.cpu-fp32.onnx");
    await runChild(values.python, [
      "-m",
      "trtforge_export.cpu_serving",
      "--onnx",
      join(bench.versionPath, "model.onnx"),
      "--model",
      values.model,
      "--out",
      fusedFp32,
      "--quantization",
      "none",
    ]);
    const onnx = {
      "cpu-int8 (model.cpu.onnx)": join(bench.versionPath, "model.cpu.onnx"),
      "cpu-fp32 (fused, not published)": fusedFp32,
      "qdq-int8 (model.qdq.onnx)": join(bench.versionPath, "model.qdq.onnx"),
      "fp32 (model.onnx)": join(bench.versionPath, "model.onnx"),
    };
    const results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, mem_bytes: totalmem(), loadavg_start: loadavg(), node: process.version },
      version: bench.version,
      serve_args: values["serve-args"],
      threads,
      count,
      floor: {},
      pytorch: {},
      server: {},
      sweep: [],
    };
    const log = (...a) => console.error(...a);

    const floors = new Set([...values.floors.split(","), "fp32"]);
    // Each floor run in its own process; the largest batch keeps its embeddings for the cosine.
    const runFloors = async (name, path, embName, extra = []) => {
      results.floor[name] = {};
      for (const batch of batches) {
        const emb = batch === Math.max(...batches) ? join(dir, embName) : undefined;
        const r = await runChild(process.execPath, [
          fileURLToPath(import.meta.url),
          "--child",
          "floor",
          ...extra,
          "--onnx",
          path,
          "--texts",
          textsFile,
          "--batch",
          String(batch),
          "--threads",
          String(threads),
          "--model",
          values.model,
          ...(emb ? ["--emb", emb] : []),
        ]);
        results.floor[name][batch] = r;
        log(
          `floor ${name} batch ${batch}: ${r.articles_per_s.toFixed(1)} articles/s, p50 ${r.p50_ms.toFixed(1)} ms, peak RSS ${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    };
    for (const [name, path] of Object.entries(onnx).filter(([name]) => floors.has(name.split(" ")[0])))
      await runFloors(name, path, `${name.split(" ")[0]}.emb`);
    // The floor of serve-engine's own policy: the CPU-serving ONNX, each batch split by length.
    const grouped = "cpu-int8 (model.cpu.onnx), length-grouped";
    if (floors.has("grouped")) await runFloors(grouped, onnx["cpu-int8 (model.cpu.onnx)"], "grouped.emb", ["--group"]);
    const reference = await readF32(join(dir, "fp32.emb"));
    if (floors.has("grouped")) results.floor[grouped].accuracy = cosines(await readF32(join(dir, "grouped.emb")), reference, 384);
    for (const name of Object.keys(onnx).filter((n) => results.floor[n] !== undefined))
      results.floor[name].accuracy = cosines(await readF32(join(dir, `${name.split(" ")[0]}.emb`)), reference, 384);

    if (values.sweep) {
      const cpuOnnx = onnx["cpu-int8 (model.cpu.onnx)"];
      for (const [opt, arena, t] of [
        ["all", "on", threads],
        ["extended", "on", threads],
        ["basic", "on", threads],
        ["disabled", "on", threads],
        ["all", "off", threads],
        ["all", "on", 1],
      ]) {
        const r = await runChild(process.execPath, [
          fileURLToPath(import.meta.url),
          "--child",
          "floor",
          "--onnx",
          cpuOnnx,
          "--texts",
          textsFile,
          "--batch",
          "32",
          "--threads",
          String(t),
          "--opt",
          opt,
          "--arena",
          arena,
          "--model",
          values.model,
        ]);
        results.sweep.push({ onnx: "model.cpu.onnx", batch: 32, graph_optimization: opt, cpu_arena: arena, threads: t, ...r });
        log(
          `sweep opt=${opt} arena=${arena} threads=${t}: ${r.articles_per_s.toFixed(1)} articles/s, peak RSS ${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    }

    if (!values["skip-torch"]) {
      for (const batch of batches) {
        const emb = batch === Math.max(...batches) ? join(dir, "torch.emb") : undefined;
        const r = await runChild(values.python, [
          join(root, "benchmarks/serve_torch.py"),
          "--model",
          values.model,
          "--texts",
          join(dir, "texts.jsonl"),
          "--batch",
          String(batch),
          "--threads",
          String(threads),
          ...(emb ? ["--emb", emb] : []),
        ]);
        results.pytorch[batch] = r;
        log(`pytorch batch ${batch}: ${r.articles_per_s.toFixed(1)} articles/s, p50 ${r.p50_ms.toFixed(1)} ms`);
      }
      results.pytorch.accuracy = cosines(await readF32(join(dir, "torch.emb")), reference, 384);
    }

    if (!values["skip-server"]) {
      const agent = "bench";
      const wanted = values.variants.split(",");
      for (const [name, variant, artifact] of [
        ["cpu-int8 (model.cpu.onnx)", "cpu", "model.cpu.onnx"],
        ["qdq-int8 (model.qdq.onnx)", "int8", "model.qdq.onnx"],
        ["fp32 (model.onnx)", "fp32", "model.onnx"],
      ].filter(([, variant]) => wanted.includes(variant))) {
        const server = await startServeEngine(bench.store, agent, variant);
        try {
          results.server[name] = {};
          await loadClients(agent, server.url, texts.slice(0, 32), 8); // warm-up
          for (const clients of clientCounts) {
            const { embeddings, evidence, ...r } = await loadClients(agent, server.url, texts, clients);
            results.server[name][clients] = r;
            results.server[name].evidence = evidence;
            // The row is only what it says if the server says it served that file.
            if (evidence?.artifact !== artifact)
              throw new Error(`serve-engine --onnx-variant ${variant} served ${evidence?.artifact}, not ${artifact}`);
            if (clients === clientCounts[0]) results.server[name].accuracy = cosines(embeddings, reference, 384);
            log(
              `serve-engine ${name} ${clients} clients: ${r.articles_per_s.toFixed(1)} articles/s, p50 ${r.p50_ms.toFixed(1)} ms, p99 ${r.p99_ms.toFixed(1)} ms`,
            );
          }
          results.server[name].worker_peak_rss_bytes = Math.max(...(await Promise.all(server.workers.map((w) => peakRss(w.pid)))));
        } finally {
          server.child.kill("SIGTERM");
          await new Promise((r) => server.child.once("exit", r));
        }
      }
    }
    results.machine.loadavg_end = loadavg();
    results.ratios = ratios(results, clientCounts);
    const out = values.out ?? join(root, "logs/benchmarks", `serve-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    await mkdir(join(out, ".."), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(table(results, clientCounts));
    console.log(`\nJSON: ${out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    httpAgent.destroy();
  }
}

function ratios(r, clientCounts) {
  const top = Math.max(...clientCounts),
    one = Math.min(...clientCounts);
  const out = {};
  const torchBest = Math.max(
    ...Object.entries(r.pytorch)
      .filter(([k]) => k !== "accuracy")
      .map(([, v]) => v.articles_per_s),
    0,
  );
  for (const [name, s] of Object.entries(r.server)) {
    const floor = r.floor[name];
    out[name] = {
      [`serve_${top}_clients_over_floor_batch_${top}`]: floor ? s[top].articles_per_s / floor[top].articles_per_s : null,
      ...(r.floor[`${name}, length-grouped`]
        ? {
            [`serve_${top}_clients_over_floor_length_grouped_batch_${top}`]:
              s[top].articles_per_s / r.floor[`${name}, length-grouped`][top].articles_per_s,
          }
        : {}),
      [`p99_8_clients_over_p50_${one}_client`]: s[8] && s[one] ? s[8].p99_ms / s[one].p50_ms : null,
      worker_peak_rss_over_bare_session: floor ? s.worker_peak_rss_bytes / floor[top].peak_rss_bytes : null,
      [`serve_${top}_clients_over_pytorch_best`]: torchBest ? s[top].articles_per_s / torchBest : null,
      cosine_vs_fp32: s.accuracy.cosine_mean,
    };
  }
  for (const [name, f] of Object.entries(r.floor)) {
    out[`floor ${name}`] = {
      [`batch_${top}_over_pytorch_best`]: torchBest ? f[top].articles_per_s / torchBest : null,
      cosine_vs_fp32: f.accuracy.cosine_mean,
    };
  }
  return out;
}

function table(r, clientCounts) {
  const mib = (b) => (b / 2 ** 20).toFixed(0);
  const lines = [
    "| path | ONNX | clients / batch | articles/s | p50 ms | p99 ms | peak RSS MiB | cosine vs fp32 |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, s] of Object.entries(r.server))
    for (const c of clientCounts)
      lines.push(
        `| serve-engine | ${name} | ${c} clients | ${s[c].articles_per_s.toFixed(1)} | ${s[c].p50_ms.toFixed(1)} | ${s[c].p99_ms.toFixed(1)} | ${mib(s.worker_peak_rss_bytes)} (worker) | ${s.accuracy.cosine_mean.toFixed(4)} |`,
      );
  for (const [name, f] of Object.entries(r.floor))
    for (const b of clientCounts)
      lines.push(
        `| floor (bare session) | ${name} | batch ${b} | ${f[b].articles_per_s.toFixed(1)} | ${f[b].p50_ms.toFixed(1)} | ${f[b].p99_ms.toFixed(1)} | ${mib(f[b].peak_rss_bytes)} | ${f.accuracy.cosine_mean.toFixed(4)} |`,
      );
  for (const b of clientCounts)
    if (r.pytorch[b])
      lines.push(
        `| PyTorch + mean pooling | - | batch ${b} | ${r.pytorch[b].articles_per_s.toFixed(1)} | ${r.pytorch[b].p50_ms.toFixed(1)} | ${r.pytorch[b].p99_ms.toFixed(1)} | ${mib(r.pytorch[b].peak_rss_bytes)} | ${r.pytorch.accuracy.cosine_mean.toFixed(4)} |`,
      );
  lines.push("", "ratios:", JSON.stringify(r.ratios, null, 2));
  return lines.join("\n");
}

await main();
