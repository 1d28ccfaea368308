#!/usr/bin/env node
// Abuse benchmark (issue 20): does abusive traffic hurt other clients or grow the server?
// serve-engine (the real CLI, one CPU worker, loopback) serves one published version; normal
// traffic is real AG News articles, one per request (BYTES text, JSON), from --clients clients.
// Three phases of the same normal traffic, the middle one with --abusive requests interleaved
// (one abuser, one request at a time, round-robin):
//   unknown   POST /v2/models/<random unknown name>/infer
//   huge      an 8 MiB text (alternately without truncate: 400 by bytes; with: cut, 200)
//   stalled   headers and a few body bytes, then nothing (held open until the end)
// --kinds picks them, round-robin (default unknown,huge,stalled); also huge-refused and huge-cut
// (one form of huge only), and long: a legitimate request of a text longer than the profile's
// maximum length (articles joined, about 4 KiB, truncate), the control for huge-cut, which after its
// cut is the same max-length inference.
// Figures: normal requests' p50/p99 in each phase (goal: p99 rise ≤ 20%), the server's RSS
// (supervisor + worker, VmRSS) after each phase (goal: rise ≤ 10%), and how long SIGTERM takes with
// the stalled uploads still open (the drain must not wait for them). Results: a table on stdout
// and JSON under logs/benchmarks/abuse.json.
//
//   mkdir -p /tmp/abuse-store && build-engine --model .tools/models/all-MiniLM-L6-v2 \
//     --model-id sentence-transformers/all-MiniLM-L6-v2 --precision fp32 --sequence-length 128 \
//     --max-batch 32 --marker --store-root /tmp/abuse-store --work-dir /tmp/abuse-work
//   node benchmarks/abuse.mjs --store-root /tmp/abuse-store [--agent trt-embeddings] [--count 600]
//     [--clients 4] [--abusive 100] [--kinds unknown,huge,stalled]
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inputOptions, loadArticlesAndTokenizer, root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    "store-root": { type: "string" },
    agent: { type: "string", default: "trt-embeddings" },
    count: { type: "string", default: "600" },
    clients: { type: "string", default: "4" },
    abusive: { type: "string", default: "100" },
    kinds: { type: "string", default: "unknown,huge,stalled" },
    out: { type: "string", default: join(root, "logs/benchmarks/abuse.json") },
    model: inputOptions.model,
    articles: inputOptions.articles,
  },
});
if (values["store-root"] === undefined) throw new Error("--store-root is required (see the header of this file)");
const count = Number(values.count);
const clients = Number(values.clients);
const abusive = Number(values.abusive);
const KINDS = ["unknown", "huge", "huge-refused", "huge-cut", "stalled", "long"];
const kinds = values.kinds.split(",");
for (const kind of kinds) if (!KINDS.includes(kind)) throw new Error(`--kinds: unknown kind "${kind}" (one of ${KINDS.join(", ")})`);
const EIGHT_MIB = 8 * 1024 * 1024;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

function startServeEngine() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(root, "packages/cli/bin/serve-engine.js"),
        "--store-root",
        values["store-root"],
        "--model",
        values.agent,
        "--http-port",
        "0",
        "--metrics-port",
        "0",
        "--cpu-workers",
        "1",
        "--json",
      ],
      { cwd: root, env: { ...process.env, LOG_LEVEL: "warn", CUDA_VISIBLE_DEVICES: "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
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

const httpAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs a body and resolves with the status (any status: abusive requests expect errors). */
function post(url, path, body, headers = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: "POST",
        agent: httpAgent,
        headers: { "content-type": "application/json", "content-length": body.length, ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const rssOf = async (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
const rssBytes = async (pids) => (await Promise.all(pids.map(rssOf))).reduce((a, b) => a + b, 0);

async function normalTraffic(url, texts) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  const client = async () => {
    for (let i = next++; i < texts.length; i = next++) {
      const body = Buffer.from(
        JSON.stringify({
          parameters: { truncate: true },
          inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [texts[i]] }],
          outputs: [{ name: "sentence_embedding" }],
        }),
      );
      const t = performance.now();
      const status = await post(url, `/v2/models/${values.agent}/infer`, body);
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: texts.length,
    seconds,
    per_s: texts.length / seconds,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    statuses,
  };
}

/** Opens a connection, sends headers and a few body bytes of a 1 MiB body, then nothing. */
function stalledUpload(url) {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(
        `POST /v2/models/${values.agent}/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{"inputs":[`,
      );
      resolve(socket);
    });
    socket.on("error", () => {});
  });
}

async function abuse(url, stop, longText) {
  const hugeText = "news ".repeat(EIGHT_MIB / 5);
  const textBody = (text, truncate) =>
    Buffer.from(JSON.stringify({ parameters: { truncate }, inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }] }));
  const hugeBodies = [textBody(hugeText, false), textBody(hugeText, true)];
  const longBody = textBody(longText, true);
  const small = Buffer.from(JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["hello"] }] }));
  const statuses = Object.fromEntries(kinds.map((kind) => [kind, kind === "stalled" ? 0 : {}]));
  const count = (kind, status) => {
    statuses[kind][status] = (statuses[kind][status] ?? 0) + 1;
  };
  const sockets = [];
  for (let i = 0; i < abusive && !stop.done; i += 1) {
    const kind = kinds[i % kinds.length];
    const round = Math.floor(i / kinds.length);
    if (kind === "unknown") {
      count(kind, await post(url, `/v2/models/no-such-model-${i}-${Math.random().toString(36).slice(2)}/infer`, small));
    } else if (kind === "stalled") {
      sockets.push(await stalledUpload(url));
      statuses.stalled += 1;
    } else {
      const body = { huge: hugeBodies[round % 2], "huge-refused": hugeBodies[0], "huge-cut": hugeBodies[1], long: longBody }[kind];
      count(kind, await post(url, `/v2/models/${values.agent}/infer`, body));
    }
  }
  return { statuses, sockets };
}

const { articles } = await loadArticlesAndTokenizer(values);
const texts = articles.articles.slice(0, count).map((a) => a.text);
// About 4 KiB of consecutive articles: more tokens than any profile's maximum length here (256).
const longText = articles.articles
  .slice(-40)
  .map((a) => a.text)
  .join(" ")
  .slice(0, 4096);
const server = await startServeEngine();
const pids = [server.child.pid, ...server.workers.map((w) => w.pid)];
// Warm-up: the first requests pay for lazy allocations, not abuse.
await normalTraffic(server.url, texts.slice(0, Math.min(100, count)));

const baselineBefore = await normalTraffic(server.url, texts);
const rssBaseline = await rssBytes(pids);
const supervisorBaseline = await rssOf(pids[0]);
const stop = { done: false };
const [underAbuse, abuseResult] = await Promise.all([
  normalTraffic(server.url, texts).finally(() => {
    stop.done = true;
  }),
  abuse(server.url, stop, longText),
]);
const rssAbuse = await rssBytes(pids);
const supervisorAbuse = await rssOf(pids[0]);
const baselineAfter = await normalTraffic(server.url, texts);
const rssAfter = await rssBytes(pids);

// SIGTERM with the stalled uploads still open: the drain must not wait for them.
const stopStart = performance.now();
const exited = new Promise((resolve) => server.child.once("exit", (code) => resolve(code)));
server.child.kill("SIGTERM");
const exitCode = await exited;
const shutdownSeconds = (performance.now() - stopStart) / 1000;
for (const socket of abuseResult.sockets) socket.destroy();
httpAgent.destroy();

const baselineP99 = Math.max(baselineBefore.p99_ms, baselineAfter.p99_ms);
const result = {
  date: new Date().toISOString(),
  host: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg_end: loadavg() },
  settings: {
    count,
    clients,
    kinds,
    abusive_sent: Object.values(abuseResult.statuses)
      .map((s) => (typeof s === "number" ? s : Object.values(s).reduce((a, b) => a + b, 0)))
      .reduce((a, b) => a + b, 0),
  },
  normal: { before: baselineBefore, under_abuse: underAbuse, after: baselineAfter },
  abusive_statuses: abuseResult.statuses,
  rss_bytes: { baseline: rssBaseline, under_abuse: rssAbuse, after: rssAfter },
  supervisor_rss_bytes: { baseline: supervisorBaseline, under_abuse: supervisorAbuse },
  p99_rise: underAbuse.p99_ms / baselineP99 - 1,
  rss_rise: rssAbuse / rssBaseline - 1,
  shutdown: { seconds: shutdownSeconds, exit_code: exitCode, stalled_uploads_open: abuseResult.sockets.length },
};
await mkdir(join(root, "logs/benchmarks"), { recursive: true });
await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);

const row = (name, r) =>
  `| ${name} | ${r.requests} | ${r.per_s.toFixed(1)} | ${r.p50_ms.toFixed(1)} | ${r.p99_ms.toFixed(1)} | ${JSON.stringify(r.statuses)} |`;
console.log("| phase | normal requests | req/s | p50 ms | p99 ms | statuses |");
console.log("|---|---|---|---|---|---|");
console.log(row("before", baselineBefore));
console.log(row(`with ${result.settings.abusive_sent} abusive`, underAbuse));
console.log(row("after", baselineAfter));
const mib = (b) => (b / 1024 / 1024).toFixed(1);
console.log(`\nRSS (supervisor + worker) MiB: baseline ${mib(rssBaseline)}, under abuse ${mib(rssAbuse)}, after ${mib(rssAfter)}`);
console.log(`supervisor alone MiB: baseline ${mib(supervisorBaseline)}, under abuse ${mib(supervisorAbuse)}`);
console.log(`p99 rise ${(result.p99_rise * 100).toFixed(1)}% (goal ≤ 20%), RSS rise ${(result.rss_rise * 100).toFixed(1)}% (goal ≤ 10%)`);
console.log(`abusive answers: ${JSON.stringify(abuseResult.statuses)}`);
console.log(`SIGTERM with ${abuseResult.sockets.length} stalled uploads open: exited ${exitCode} after ${shutdownSeconds.toFixed(2)} s`);
console.log(`results: ${values.out}`);
