#!/usr/bin/env node
// Shadow benchmark (issue 25 item 2): what `serve-engine --shadow` costs the primary, and what the
// shadow sheds when the host is saturated. The real CLI (one CPU worker) on loopback, twice: the
// primary alone, and the same primary with a shadow candidate (both servers up at once). Phases:
//   1 client    --count real AG News articles, one per request, sequentially to each server,
//               interleaved in blocks of --block (ABBA), so that the host's load drift falls on both:
//               the primary's p50/p99 (the goal: p50 rises by at most 15 % with the shadow on, no
//               request fails)
//   saturated   each server in turn, --clients concurrent clients for --seconds: primary failures, and from /metrics
//               the shadow's compared/shed/failed counts (shed is the shadow giving way)
// Results: a table on stdout and JSON under logs/benchmarks/ (or --out).
//
//   build-engine --model .tools/models/all-MiniLM-L6-v2 --model-id sentence-transformers/all-MiniLM-L6-v2 \
//     --revision c9745ed1d9f207416be6d2e6f8de32d1f16199bf --marker --precision fp32 --cpu-serving off \
//     --store-root /tmp/shadow-store --work-dir /tmp/shadow-work
//   model-store publish <that version's folder copy> --agent trt-embeddings --root /tmp/shadow-store --version cand ...
//   node benchmarks/shadow.mjs --store-root /tmp/shadow-store --primary <version> --candidate cand
//     [--agent trt-embeddings] [--count 300] [--block 25] [--clients 16] [--seconds 20]
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { readArticles } from "@trtforge/articles";
import { inputOptions, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    "store-root": { type: "string" },
    agent: { type: "string", default: "trt-embeddings" },
    primary: { type: "string" },
    candidate: { type: "string" },
    count: { type: "string", default: "300" },
    clients: { type: "string", default: "16" },
    seconds: { type: "string", default: "20" },
    block: { type: "string", default: "25" },
    out: { type: "string" },
    articles: inputOptions.articles,
  },
});
if (values["store-root"] === undefined || values.primary === undefined || values.candidate === undefined) {
  process.stderr.write("usage: node benchmarks/shadow.mjs --store-root DIR --primary VERSION --candidate VERSION [--agent A]\n");
  process.exit(2);
}
const agent = values.agent;
const count = Number(values.count);
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const block = Number(values.block);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/** serve-engine on free ports, serving the pinned primary, with extra flags; resolves once serving. */
async function startServe(extra) {
  const child = spawn(
    process.execPath,
    [
      join(root, "packages/cli/bin/serve-engine.js"),
      "--store-root",
      values["store-root"],
      "--model",
      `${agent}@${values.primary}`,
      "--http-port",
      "0",
      "--metrics-port",
      "0",
      "--json",
      ...extra,
    ],
    { env: { ...process.env, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    void exited.then((code) => reject(new Error(`serve-engine exited ${code}:\n${stderr}`)));
  });
  const { serving } = JSON.parse(line);
  return {
    url: serving.url,
    metricsUrl: serving.metrics_url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function infer(url, text, id) {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/v2/models/${agent}/infer`, {
      method: "POST",
      body: JSON.stringify({
        id,
        parameters: { truncate: true },
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }],
        outputs: [{ name: "sentence_embedding" }],
      }),
    });
    await response.arrayBuffer();
    return { ok: response.status === 200, status: response.status, ms: performance.now() - started };
  } catch {
    return { ok: false, status: 0, ms: performance.now() - started };
  }
}

/** Sums of the series of one metric with the given labels, from a Prometheus text scrape. */
function metric(scrape, name, labels) {
  return scrape
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const shadowCount = (outcome, scrape) => metric(scrape, "trtforge_shadow_requests_total", { outcome });

/**
 * The 1-client phase of both servers at once, interleaved: blocks of --block requests go to one
 * server then the other (ABBA order), so a change in the host's load (a shared machine) falls on
 * both sides alike instead of on whichever ran later. A pause between blocks lets the shadow finish
 * its last run before the other server's block starts.
 */
async function oneClientInterleaved(servers, texts) {
  const sequential = servers.map(() => []);
  for (let i = 0; i < count; i += block) {
    const order = (i / block) % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) {
      await sleep(300);
      for (let j = i; j < Math.min(count, i + block); j++)
        sequential[side].push(await infer(servers[side].url, texts[j % texts.length], `seq-${j}`));
    }
  }
  return sequential;
}

async function saturate(server, texts) {
  const before = await (await fetch(server.metricsUrl)).text();
  const deadline = performance.now() + seconds * 1000;
  const saturated = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < deadline; i++)
        saturated.push(await infer(server.url, texts[(c * 97 + i) % texts.length], `sat-${c}-${i}`));
    }),
  );
  // The shadow's last runs finish after the primary's answers.
  await sleep(2000);
  const after = await (await fetch(server.metricsUrl)).text();
  return { before, after, saturated };
}

async function runBoth(texts) {
  const names = ["primary alone", "with shadow"];
  const servers = [];
  try {
    servers.push(await startServe([]));
    servers.push(await startServe(["--shadow", `${agent}@${values.candidate}`]));
    for (const server of servers) for (let i = 0; i < 20; i++) await infer(server.url, texts[i % texts.length], `warm-${i}`);
    const loadBefore = loadavg();
    const sequential = await oneClientInterleaved(servers, texts);
    const loadAfter = loadavg();
    const results = [];
    for (const [index, server] of servers.entries()) {
      const sorted = sequential[index].map((r) => r.ms).sort((a, b) => a - b);
      const oneClientScrape = await (await fetch(server.metricsUrl)).text();
      const saturatedLoad = loadavg();
      const { after, before, saturated } = await saturate(server, texts);
      const cosineCount = metric(after, "trtforge_shadow_cosine_count", {});
      results.push({
        name: names[index],
        one_client: {
          requests: count,
          failed: sequential[index].filter((r) => !r.ok).length,
          p50_ms: percentile(sorted, 50),
          p99_ms: percentile(sorted, 99),
          shadow_compared: shadowCount("compared", oneClientScrape),
          shadow_shed: shadowCount("shed", oneClientScrape),
          interleaved_blocks_of: block,
          loadavg_start: loadBefore,
          loadavg_end: loadAfter,
        },
        saturated: {
          clients,
          seconds,
          requests: saturated.length,
          failed: saturated.filter((r) => !r.ok).length,
          p50_ms: percentile(
            saturated.map((r) => r.ms).sort((a, b) => a - b),
            50,
          ),
          shadow_compared: shadowCount("compared", after) - shadowCount("compared", before),
          shadow_shed: shadowCount("shed", after) - shadowCount("shed", before),
          shadow_failed: shadowCount("failed", after) - shadowCount("failed", before),
          loadavg_start: saturatedLoad,
        },
        shadow_mean_cosine: cosineCount === 0 ? null : metric(after, "trtforge_shadow_cosine_sum", {}) / cosineCount,
      });
    }
    return results;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const texts = (await readArticles(values.articles)).articles.slice(0, 1000).map((article) => article.text);
const results = {
  host: { cpus: cpus().length, parallelism: availableParallelism(), loadavg_start: loadavg() },
  store: values["store-root"],
  primary: `${agent}@${values.primary}`,
  candidate: `${agent}@${values.candidate}`,
  runs: await runBoth(texts),
};
results.host.loadavg_end = loadavg();
const [alone, shadowed] = results.runs;
results.p50_rise_percent = ((shadowed.one_client.p50_ms - alone.one_client.p50_ms) / alone.one_client.p50_ms) * 100;

const row = (r) =>
  `${r.name.padEnd(14)} 1 client p50 ${r.one_client.p50_ms.toFixed(2)} ms p99 ${r.one_client.p99_ms.toFixed(2)} ms failed ${r.one_client.failed} | ` +
  `${r.saturated.clients} clients ${r.saturated.requests} req failed ${r.saturated.failed}, shadow compared ${r.saturated.shadow_compared} shed ${r.saturated.shadow_shed} failed ${r.saturated.shadow_failed}`;
process.stdout.write(`${results.runs.map(row).join("\n")}\np50 rise with the shadow: ${results.p50_rise_percent.toFixed(1)} %\n`);
const out = values.out ?? join(root, "logs/benchmarks", `shadow-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await mkdir(join(out, ".."), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`written to ${out}\n`);
