// serve-engine on a GPU host, TensorRT stubbed as in scripts/gpu-smoke.sh (issue 14): one worker
// process per GPU of the device map, models on the GPUs the map names and nowhere else, a model
// mapped to several GPUs spread over them, a worker killed and restarted on the same GPU while the
// other GPUs keep serving, and SIGTERM releasing every GPU. Works for any number of GPUs; with one,
// every model is on GPU 0 and the kill check is that its requests fail fast (503) and come back.
//
// Evidence comes from the workers' own reports (response parameters and model metadata: gpu_uuid,
// compute_capability; the workers' "worker ready" log lines with their pids) and from nvidia-smi
// (--query-compute-apps: which process holds memory on which GPU). Output values are checked
// against the stub kernel's formula (native/test/stub-trt/stub-formula.mjs) on the token ids sent.
//
//   node scripts/gpu-serve-check.mjs --cli <packages/cli or a deployed copy> --addon <built trtforge_trt<major>.node>
//     --plan-version <a.b.c.d> --tokenizer <model folder> --metadata native/test/stub-trt/minilm-fp32.metadata.json
//     [--summary <file.json>]
// Exit status 0 only if every check passed. scripts/gpu-serve.sh builds the addon and runs this.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { rowChecksums, stubValue } from "../native/test/stub-trt/stub-formula.mjs";
import { publishStubVersion } from "../native/test/stub-trt/stub-version.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    cli: { type: "string" },
    addon: { type: "string" },
    "plan-version": { type: "string" },
    tokenizer: { type: "string" },
    metadata: { type: "string", default: join(root, "native/test/stub-trt/minilm-fp32.metadata.json") },
    summary: { type: "string" },
  },
});
for (const name of ["cli", "addon", "plan-version", "tokenizer"]) {
  if (!args[name]) {
    console.error(`gpu-serve-check: --${name} is required (see the header of this file)`);
    process.exit(2);
  }
}
const cliDir = resolve(args.cli);
const fromCli = createRequire(join(cliDir, "package.json"));
const load = (specifier) => import(pathToFileURL(fromCli.resolve(specifier)).href);
const { publish } = await load("@trtforge/model-store");
const { formatEngineName, serializeMetadata } = await load("@trtforge/engine-format");

// The workers load the addon through the runtime's @trtforge/native (loadAddon()): put the built one where it looks.
const fromRuntime = createRequire(fromCli.resolve("@trtforge/runtime"));
const nativeDir = dirname(dirname(fromRuntime.resolve("@trtforge/native")));
const major = args["plan-version"].split(".")[0];
mkdirSync(join(nativeDir, "build", "Release"), { recursive: true });
copyFileSync(args.addon, join(nativeDir, "build", "Release", `trtforge_trt${major}.node`));

const summary = { checks: [], gpus: [], workers: [], compute_apps: {}, requests: {} };
let passed = 0;
const check = async (name, fn) => {
  const started = Date.now();
  const note = await fn();
  passed += 1;
  summary.checks.push({ name, note: note ?? null, ms: Date.now() - started });
  console.log(`ok ${passed} - ${name}${note ? ` (${note})` : ""} [${Date.now() - started} ms]`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the GPUs, as nvidia-smi orders them (PCI bus order; the device map's ids) -----------------
const smi = (query) =>
  execFileSync("nvidia-smi", [query, "--format=csv,noheader,nounits"], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(",").map((f) => f.trim()));
const gpus = smi("--query-gpu=index,uuid,name,compute_cap,memory.used").map(([index, uuid, name, cc, used]) => ({
  index: Number(index),
  uuid,
  name,
  cc,
  used_mib: Number(used),
}));
summary.gpus = gpus;
/** pid → [{uuid, used_mib}] of the processes holding GPU memory now. */
function computeApps() {
  const apps = new Map();
  for (const [pid, uuid, used] of smi("--query-compute-apps=pid,gpu_uuid,used_memory")) {
    if (!/^\d+$/.test(pid)) continue;
    apps.set(Number(pid), [...(apps.get(Number(pid)) ?? []), { uuid, used_mib: Number(used) }]);
  }
  return apps;
}
assert.ok(gpus.length >= 1, "nvidia-smi lists no GPU");
const last = gpus.length - 1;
console.log(`# ${gpus.length} GPU(s): ${gpus.map((g) => `${g.index} ${g.name} ${g.uuid}`).join("; ")}`);

// ---- the store: three agents, each a stub engine with its own file name --------------------------
const dir = mkdtempSync(join(tmpdir(), "trtforge-gpu-serve-"));
const storeRoot = join(dir, "store");
const template = JSON.parse(readFileSync(args.metadata, "utf8"));
const planVersion = args["plan-version"];
const device = { name: gpus[0].name, computeCapability: gpus[0].cc };
/** One stub engine per agent; its own revision gives it its own engine file name, the device map's key. */
const publishStub = async (agent, revision) =>
  (
    await publishStubVersion(
      { publish, formatEngineName, serializeMetadata },
      {
        root: storeRoot,
        agent,
        version: "v1",
        template,
        planVersion,
        device,
        tokenizerDir: args.tokenizer,
        patch: { hf_revision: revision },
      },
    )
  ).engineName;
// The device map: "first" on GPU 0, "last" on the last GPU, "both" on the first two (one, with one GPU).
const placement = {
  first: [0],
  last: [last],
  both: gpus.length >= 2 ? [0, 1] : [0],
};
const engines = {};
for (const [i, agent] of Object.keys(placement).entries()) engines[agent] = await publishStub(agent, `${i + 1}`.repeat(40));
const deviceMap = join(dir, "device-map.yaml");
writeFileSync(
  deviceMap,
  [
    "version: 1",
    "engines:",
    ...Object.entries(placement).map(([agent, ids]) => `  ${engines[agent]}: ${ids.length === 1 ? ids[0] : `[${ids.join(", ")}]`}`),
    "",
  ].join("\n"),
);
summary.device_map = readFileSync(deviceMap, "utf8");
console.log(`# device map:\n${summary.device_map}`);

// ---- serve-engine ---------------------------------------------------------------------------------
const logLines = [];
const readyPids = []; // {worker, pid} in the order workers reported ready
const child = spawn(
  process.execPath,
  [
    join(cliDir, "bin", "serve-engine.js"),
    "--store-root",
    storeRoot,
    ...Object.keys(placement).flatMap((agent) => ["--model", agent]),
    "--device-map",
    deviceMap,
    "--require-tensorrt",
    "--http-port",
    "0",
    "--metrics-port",
    "0",
    "--json",
  ],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "info" } },
);
let stderrTail = "";
child.stderr.on("data", (chunk) => {
  stderrTail = (stderrTail + chunk).slice(-20_000);
  for (const line of String(chunk).split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line);
      logLines.push(entry);
      if (entry.msg === "worker ready" && entry.worker !== undefined) readyPids.push({ worker: entry.worker, pid: entry.pid });
    } catch {
      // a partial line; the next chunk has the rest, and nothing here depends on it
    }
  }
});
const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
const serving = await new Promise((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (!line) return;
    const reply = JSON.parse(line);
    if (reply.ok) resolve(reply.serving);
    else reject(new Error(`serve-engine did not start: ${JSON.stringify(reply.error)}\n${stderrTail.slice(-4000)}`));
  });
  void exited.then(({ code }) => reject(new Error(`serve-engine exited (${code}) before serving:\n${stderrTail}`)));
});
const { url } = serving;
const metricsUrl = serving.metrics_url;
summary.workers = serving.workers;
console.log(`# serving on ${url}; workers ${JSON.stringify(serving.workers)}`);

async function infer(agent, rows) {
  const seq = Math.max(...rows.map((r) => r.length));
  const ids = rows.flatMap((r) => [...r, ...Array(seq - r.length).fill(0)]);
  const mask = rows.flatMap((r) => [...r.map(() => 1), ...Array(seq - r.length).fill(0)]);
  const body = {
    inputs: [
      { name: "input_ids", datatype: "INT64", shape: [rows.length, seq], data: ids },
      { name: "attention_mask", datatype: "INT64", shape: [rows.length, seq], data: mask },
    ],
    outputs: [{ name: "sentence_embedding" }],
  };
  const res = await fetch(`${url}/v2/models/${agent}/infer`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  const json = await res.json();
  return { status: res.status, json, ids, mask, seq };
}
/** The response's sentence_embedding against the stub formula on the ids sent (token types are zeros). */
function checkValues(reply, rows, label) {
  const out = reply.json.outputs.find((o) => o.name === "sentence_embedding");
  assert.deepEqual(out.shape, [rows.length, 384], `${label}: shape`);
  const sums = rowChecksums(
    [
      { data: reply.ids, rowLength: reply.seq },
      { data: reply.mask, rowLength: reply.seq },
      { data: new Array(reply.ids.length).fill(0), rowLength: reply.seq },
    ],
    rows.length,
  );
  const o = template.outputs.findIndex((t) => t.name === "sentence_embedding");
  for (let b = 0; b < rows.length; b++)
    for (let k = 0; k < 384; k++) {
      const expected = stubValue(sums[b], k, o);
      if (out.data[b * 384 + k] !== expected)
        assert.fail(`${label}: sentence_embedding[${b}, ${k}] is ${out.data[b * 384 + k]}, expected ${expected}`);
    }
}
let seed = 1;
const randomRows = (n) =>
  Array.from({ length: n }, () => {
    const length = 2 + ((seed = (seed * 48271) % 2147483647) % 60);
    return [101, ...Array.from({ length: length - 2 }, (_, i) => 1000 + ((seed + i * 7919) % 28000)), 102];
  });

let failure;
try {
  await check("one worker per GPU of the map, each pinned to its own GPU; the supervisor holds no GPU memory", async () => {
    const wanted = new Set(Object.values(placement).flat());
    assert.deepEqual(serving.workers.map((w) => w.gpu).sort(), [...wanted].sort(), "worker GPUs");
    await sleep(500);
    const apps = computeApps();
    summary.compute_apps.after_start = Object.fromEntries(apps);
    if (apps.size === 0) {
      // In a PID namespace nvidia-smi may list no process; then the GPUs' used memory must say it.
      summary.compute_apps.note = "nvidia-smi listed no compute process; checked per-GPU used memory against the baseline";
      const now = smi("--query-gpu=index,memory.used").map(([index, used]) => ({ index: Number(index), used: Number(used) }));
      for (const g of now) {
        const grew = g.used - gpus[g.index].used_mib;
        if (wanted.has(g.index)) assert.ok(grew > 0, `GPU ${g.index} used memory did not grow (${grew} MiB) though a worker serves on it`);
        else assert.ok(grew <= 16, `GPU ${g.index} used memory grew by ${grew} MiB though no worker is mapped to it`);
      }
      return `no per-process list from nvidia-smi; used memory grew only on GPUs ${[...wanted]}: ${JSON.stringify(now)}`;
    }
    assert.ok(
      !apps.has(child.pid),
      `serve-engine's supervisor (pid ${child.pid}) holds GPU memory: ${JSON.stringify(apps.get(child.pid))}`,
    );
    for (const worker of serving.workers) {
      const held = apps.get(worker.pid) ?? [];
      assert.deepEqual(
        held.map((h) => h.uuid),
        [gpus[worker.gpu].uuid],
        `worker ${worker.name} (pid ${worker.pid}) holds memory on ${JSON.stringify(held)}, not only on GPU ${worker.gpu}`,
      );
    }
    return serving.workers.map((w) => `${w.name} pid ${w.pid} on ${gpus[w.gpu].uuid} (${apps.get(w.pid)[0].used_mib} MiB)`).join("; ");
  });

  await check("each model reports (metadata) the TensorRT backend on the GPUs its map entry names, and nowhere else", async () => {
    const notes = [];
    for (const [agent, ids] of Object.entries(placement)) {
      const meta = await (await fetch(`${url}/v2/models/${agent}`)).json();
      const p = meta.parameters ?? {};
      assert.equal(p.backend, "tensorrt", `${agent}: backend ${p.backend} (${p.fallback_reason ?? ""})`);
      assert.ok(ids.map((i) => gpus[i].uuid).includes(p.gpu_uuid), `${agent} metadata names ${p.gpu_uuid}`);
      assert.equal(p.compute_capability, gpus[ids[0]].cc);
      notes.push(`${agent} → ${p.gpu_uuid} cc ${p.compute_capability}`);
    }
    return notes.join("; ");
  });

  await check("requests to every model return the stub kernel's values; the model on two GPUs is served by both", async () => {
    const servedBy = {};
    for (const agent of Object.keys(placement)) {
      servedBy[agent] = {};
      for (let i = 0; i < 12; i++) {
        const rows = randomRows(1 + (i % 4));
        const reply = await infer(agent, rows);
        assert.equal(reply.status, 200, `${agent}: HTTP ${reply.status} ${JSON.stringify(reply.json)}`);
        checkValues(reply, rows, `${agent} request ${i}`);
        const uuid = reply.json.parameters.gpu_uuid;
        assert.ok(placement[agent].map((g) => gpus[g].uuid).includes(uuid), `${agent} served on ${uuid}`);
        servedBy[agent][uuid] = (servedBy[agent][uuid] ?? 0) + 1;
      }
    }
    assert.equal(Object.keys(servedBy.both).length, placement.both.length, `"both" served by ${JSON.stringify(servedBy.both)}`);
    summary.requests.served_by = servedBy;
    return JSON.stringify(servedBy);
  });

  await check(
    "SIGKILL of the last GPU's worker under load: its requests fail fast (503), other GPUs' requests do not fail, it comes back on the same GPU",
    async () => {
      const victim = serving.workers.find((w) => w.gpu === last);
      const others = Object.keys(placement).filter((agent) => !placement[agent].includes(last));
      let stop = false;
      const results = { victim: { ok: 0, failed: 0, slowest_failure_ms: 0 }, others: { ok: 0, failed: 0 } };
      const client = async (agent, bucket) => {
        while (!stop) {
          const started = Date.now();
          const rows = randomRows(2);
          const reply = await infer(agent, rows).catch((err) => ({ status: 0, json: { error: String(err) } }));
          if (reply.status === 200) {
            checkValues(reply, rows, `${agent} under kill`);
            bucket.ok += 1;
          } else {
            bucket.failed += 1;
            if (bucket.slowest_failure_ms !== undefined)
              bucket.slowest_failure_ms = Math.max(bucket.slowest_failure_ms, Date.now() - started);
            if (bucket === results.others) console.error(`# ${agent} failed: ${reply.status} ${JSON.stringify(reply.json)}`);
            await sleep(20);
          }
        }
      };
      const clients = [client("last", results.victim), ...others.map((agent) => client(agent, results.others))];
      await sleep(500);
      const readyBefore = readyPids.length;
      process.kill(victim.pid, "SIGKILL");
      const deadline = Date.now() + 60_000;
      while (readyPids.length === readyBefore && Date.now() < deadline) await sleep(100);
      const back = readyPids.at(-1);
      assert.ok(readyPids.length > readyBefore, "the killed worker did not come back within 60 s");
      assert.equal(back.worker, victim.name);
      assert.notEqual(back.pid, victim.pid);
      await sleep(1000);
      stop = true;
      await Promise.all(clients);
      const apps = computeApps();
      summary.compute_apps.after_restart = Object.fromEntries(apps);
      if (apps.size > 0) {
        assert.ok(!apps.has(victim.pid), "the killed worker's pid still holds GPU memory");
        assert.deepEqual(
          (apps.get(back.pid) ?? []).map((h) => h.uuid),
          [gpus[last].uuid],
          "the restarted worker is not on the same GPU",
        );
      }
      // The worker's own report: what it serves "last" on after the restart.
      const meta = await (await fetch(`${url}/v2/models/last`)).json();
      assert.equal(meta.parameters.gpu_uuid, gpus[last].uuid, "the restarted worker reports another GPU");
      assert.equal(results.others.failed, 0, "requests to models on other GPUs failed");
      assert.ok(results.victim.ok > 0, "no request to the killed worker's model succeeded, before or after");
      assert.ok(results.victim.slowest_failure_ms < 5000, `a failed request took ${results.victim.slowest_failure_ms} ms`);
      summary.requests.kill = results;
      return `${victim.name} pid ${victim.pid} → ${back.pid} on ${gpus[last].uuid}; ${JSON.stringify(results)}`;
    },
  );

  await check("/metrics: GPU memory and utilization per GPU (NVML), model info with the GPU of each worker", async () => {
    const text = await (await fetch(metricsUrl)).text();
    for (const g of gpus) assert.match(text, new RegExp(`gpu_uuid="${g.uuid}"`), `no GPU series for ${g.uuid}`);
    const info = text.split("\n").filter((l) => l.startsWith("trtforge_model_info{"));
    for (const [agent, ids] of Object.entries(placement)) {
      for (const i of ids)
        assert.ok(
          info.some((l) => l.includes(`model="${agent}"`) && l.includes(gpus[i].uuid)),
          `no model_info for ${agent} on GPU ${i}`,
        );
    }
    summary.metrics_model_info = info;
    return `${info.length} model_info series`;
  });

  await check("SIGTERM: serve-engine drains and exits 0, and no process of ours holds GPU memory afterwards", async () => {
    const pids = [child.pid, ...readyPids.map((r) => r.pid)];
    child.kill("SIGTERM");
    const result = await Promise.race([exited, sleep(60_000).then(() => ({ code: "timeout" }))]);
    assert.equal(result.code, 0, `serve-engine exit ${JSON.stringify(result)}`);
    let held = [];
    let grown = [];
    for (let i = 0; i < 50; i++) {
      const apps = computeApps();
      held = pids.filter((pid) => apps.has(pid));
      grown = smi("--query-gpu=index,memory.used").filter(([index, used]) => Number(used) - gpus[Number(index)].used_mib > 16);
      if (held.length === 0 && grown.length === 0) break;
      await sleep(100);
    }
    assert.deepEqual(held, [], `still holding GPU memory: ${held}`);
    assert.deepEqual(grown, [], `GPU memory above the baseline after exit: ${JSON.stringify(grown)}`);
    summary.gpus_after = smi("--query-gpu=index,uuid,memory.used");
    return `GPU memory used after exit: ${summary.gpus_after.map((g) => `${g[0]}: ${g[2]} MiB`).join(", ")}`;
  });
  console.log(`# all ${passed} checks passed`);
} catch (err) {
  failure = err;
  console.error(`not ok - ${err.message}`);
  console.error(stderrTail.slice(-6000));
} finally {
  if (child.exitCode === null) child.kill("SIGKILL");
  summary.passed = failure === undefined;
  summary.log_lines = logLines.filter((l) => l.level >= 40 || /worker|serving|drain/.test(l.msg ?? "")).slice(-200);
  if (args.summary) writeFileSync(args.summary, `${JSON.stringify(summary, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failure === undefined ? 0 : 1);
