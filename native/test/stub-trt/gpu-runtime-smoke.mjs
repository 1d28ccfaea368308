// Serving through @trtforge/runtime — the layer serve-engine's workers use — on the stub TensorRT
// runtime: a store version holding a stub plan that declares all-MiniLM-L6-v2's I/O tensors, its v1
// metadata written for the GPU this process sees and the TensorRT it runs, and the model's real
// tokenizer. openServedModel verifies the manifest checksum and verify-engine's checks against the
// running TensorRT version and the GPU's compute capability, then loads it (requireTensorRT: no
// fallback); real AG News articles are tokenized, run alone and through the dynamic batcher at
// several sizes including the profile's minimum and maximum, and every output value is checked
// against the stub kernel's formula on the token rows each request sent. Versions the gate must
// refuse (another compute capability, bytes changed after publishing) are refused; a hot swap
// through a ModelSlot moves serving to a new version under load and disposes the old engine.
//
//   node --expose-gc gpu-runtime-smoke.mjs --runtime <packages/runtime or a deployed copy>
//     --tokenizer <model folder> --articles <test.csv> --metadata <minilm-fp32.metadata.json>
//     --plan-version <a.b.c.d> (--native <built native dir> | --emulate)
// --emulate serves on stub-emulation.mjs instead of the addon: the CPU check of this program.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createStubEmulation } from "./stub-emulation.mjs";
import { rowChecksums, stubValue } from "./stub-formula.mjs";
import { publishStubVersion } from "./stub-version.mjs";

const { values: args } = parseArgs({
  options: {
    runtime: { type: "string" },
    native: { type: "string" },
    emulate: { type: "boolean", default: false },
    tokenizer: { type: "string" },
    articles: { type: "string" },
    metadata: { type: "string" },
    "plan-version": { type: "string" },
  },
});
for (const name of ["runtime", "tokenizer", "articles", "metadata", "plan-version"]) {
  if (!args[name]) {
    console.error(`gpu-runtime-smoke: --${name} is required (see the header of this file)`);
    process.exit(2);
  }
}
if (!args.emulate && !args.native) {
  console.error("gpu-runtime-smoke: pass --native <built native dir> or --emulate");
  process.exit(2);
}

// The runtime and the packages it depends on, resolved from the runtime's own folder.
const fromRuntime = createRequire(resolve(args.runtime, "package.json"));
const load = (specifier) => import(pathToFileURL(fromRuntime.resolve(specifier)).href);
const runtime = await import(pathToFileURL(resolve(args.runtime, "dist", "index.js")).href);
const { publish } = await load("@trtforge/model-store");
const { formatEngineName, serializeMetadata } = await load("@trtforge/engine-format");

const planVersion = args["plan-version"];
const template = JSON.parse(readFileSync(args.metadata, "utf8"));

let addon;
if (args.emulate) {
  const device = { index: 0, name: "stub emulation", computeCapability: "9.0", uuid: "GPU-00000000-0000-0000-0000-000000000000" };
  addon = createStubEmulation({ trtVersion: planVersion, device });
} else {
  const { loadAddon } = await import(pathToFileURL(resolve(args.native, "dist", "index.js")).href);
  const status = loadAddon();
  assert.ok(status.available, `the addon did not load: ${status.message ?? ""} ${status.fix ?? ""}`);
  addon = status.binding;
}

let passed = 0;
let checkedValues = 0;
const check = async (name, fn) => {
  const started = Date.now();
  const note = await fn();
  passed += 1;
  console.log(`ok ${passed} - ${name}${note ? ` (${note})` : ""} [${Date.now() - started} ms]`);
};

// ---- the store -------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "trtforge-gpu-runtime-"));
const storeRoot = join(dir, "store");
const device = addon.devices()[0];
assert.ok(device, "no GPU visible");
const libs = { publish, formatEngineName, serializeMetadata };
/** The stub engine as build-engine would publish it for this GPU; `patch` and `damage` as publishStubVersion takes them. */
const publishStub = (agent, version, { patch = {}, damage = false } = {}) =>
  publishStubVersion(libs, { root: storeRoot, agent, version, template, planVersion, device, tokenizerDir: args.tokenizer, patch, damage });

// Real news: "class","title","description" rows of AG News.
const articles = readFileSync(args.articles, "utf8")
  .split("\n")
  .slice(0, 400)
  .map((line) => /^"\d+","(.*)","(.*)"$/.exec(line))
  .filter(Boolean)
  .map(([, title, body]) => `${title}. ${body}`.replaceAll('""', '"').replaceAll("\\", " "));
assert.ok(articles.length >= 200, `only ${articles.length} articles read from ${args.articles}`);

// ---- checking outputs --------------------------------------------------------------------------
const inputOrder = template.inputs.map((t) => t.name);
const outputIndex = new Map(template.outputs.map((t, o) => [t.name, o]));

/** Every value of every output the request got, against the formula on the rows it sent. */
function checkResult(outputs, tokens, label) {
  const sums = rowChecksums(
    inputOrder.map((name) => ({ data: runtime.tokenInput(tokens, name), rowLength: tokens.seqLen })),
    tokens.rows,
  );
  assert.deepEqual(outputs.map((o) => o.name).sort(), [...outputIndex.keys()].sort(), `${label}: outputs`);
  for (const out of outputs) {
    const o = outputIndex.get(out.name);
    assert.equal(out.datatype, "FP32", `${label}: ${out.name} datatype`);
    const expectedShape = out.name === "last_hidden_state" ? [tokens.rows, tokens.seqLen, 384] : [tokens.rows, 384];
    assert.deepEqual(out.shape, expectedShape, `${label}: ${out.name} shape`);
    const rowLength = expectedShape.slice(1).reduce((a, b) => a * b, 1);
    for (let b = 0; b < tokens.rows; b++) {
      for (let k = 0; k < rowLength; k++) {
        const actual = out.data[b * rowLength + k];
        const expected = stubValue(sums[b], k, o);
        if (actual !== expected) assert.fail(`${label}: ${out.name}[${b}, ${k}] is ${actual}, expected ${expected}`);
      }
    }
    checkedValues += out.data.length;
  }
}

async function rejectionOf(promise) {
  return promise.then(
    () => assert.fail("expected a refusal"),
    (err) => err,
  );
}

try {
  const first = await publishStub("embed", "v1");

  let model;
  await check(
    "openServedModel: manifest checksum and verify-engine against the running TensorRT and this GPU pass, the engine loads",
    async () => {
      model = await runtime.openServedModel({ storeRoot, agent: "embed" }, { addon, requireTensorRT: true, deviceId: 0 });
      assert.equal(model.evidence.backend, "tensorrt");
      assert.equal(model.evidence.artifact, first.engineName);
      assert.equal(model.evidence.checksum, first.checksum);
      assert.equal(model.evidence.version, "v1");
      assert.equal(model.fallbackDetail, undefined);
      assert.deepEqual(model.profile, { batch: { min: 1, opt: 16, max: 32 }, sequence: { min: 1, opt: 128, max: 256 } });
      return `${device.name} cc ${device.computeCapability}, TensorRT ${addon.trtVersion()}, ${first.engineName}`;
    },
  );

  const { batch, sequence } = model.profile;
  const [minSeq, maxBatch, maxSeq] = [sequence.min, batch.max, sequence.max];
  const long = (i) => articles.slice(i, i + 8).join(" "); // well over 256 tokens
  await check("run() at the profile's minimum 1x1 and maximum 32x256 and between, on real tokenized articles", async () => {
    const cases = [];
    // 1x1: the profile minimum; a lone [CLS] row as a client could send it as input_ids.
    cases.push(["1x1", { rows: 1, seqLen: minSeq, inputIds: new BigInt64Array([101n]), attentionMask: new BigInt64Array([1n]) }]);
    cases.push([
      "32x256",
      model.tokenize(
        Array.from({ length: maxBatch }, (_, i) => long(i)),
        { truncate: true },
      ),
    ]);
    cases.push(["1 article", model.tokenize([articles[0]], { truncate: false })]);
    cases.push(["3 articles", model.tokenize(articles.slice(1, 4), { truncate: false })]);
    cases.push(["16 articles", model.tokenize(articles.slice(4, 20), { truncate: false })]);
    cases.push(["1 long", model.tokenize([long(40)], { truncate: true })]);
    const shapes = [];
    for (const [label, tokens] of cases) {
      checkResult(await model.run(tokens), tokens, label);
      shapes.push(`${tokens.rows}x${tokens.seqLen}`);
    }
    assert.ok(shapes.includes(`${maxBatch}x${maxSeq}`), `no ${maxBatch}x${maxSeq} case: ${shapes}`);
    return shapes.join(", ");
  });

  await check(
    "the dynamic batcher: 60 concurrent requests of 1-4 articles merge into fewer executions, each gets its own rows",
    async () => {
      const reports = [];
      const batcher = runtime.createBatcher({ maxQueueDelayMs: 5, maxQueue: 256, onBatch: (r) => reports.push(r) });
      const requests = Array.from({ length: 60 }, (_, i) => {
        // admit() tokenizes with the version it leases; the batcher runs the rows on that version.
        const admitted = runtime.admit(model, { texts: articles.slice(100 + i * 4, 100 + i * 4 + 1 + (i % 4)), truncate: true });
        return { tokens: admitted.tokens, result: batcher.infer(admitted) };
      });
      for (const [i, r] of requests.entries()) checkResult((await r.result).outputs, r.tokens, `request ${i}`);
      await batcher.close();
      assert.equal(
        reports.reduce((n, r) => n + r.requests, 0),
        60,
      );
      assert.ok(reports.length < 60 && reports.every((r) => r.ok && r.backend === "tensorrt" && r.rows <= maxBatch));
      return `${reports.length} executions, largest ${Math.max(...reports.map((r) => r.rows))} rows`;
    },
  );

  await check("the gate refuses, against the real device, an engine built for another compute capability (requireTensorRT)", async () => {
    const other = device.computeCapability === "8.0" ? "8.6" : "8.0";
    await publishStub("other-gpu", "v1", { patch: { gpu: { name: "NVIDIA A100", compute_capability: other } } });
    const err = await rejectionOf(runtime.openServedModel({ storeRoot, agent: "other-gpu" }, { addon, requireTensorRT: true }));
    assert.equal(err.code, "TENSORRT_REQUIRED");
    assert.match(err.message, /COMPUTE_CAPABILITY_MISMATCH/);
    return err.message.slice(0, 160);
  });

  await check("the gate refuses engine bytes that do not match their metadata's checksum", async () => {
    await publishStub("damaged", "v1", { damage: true });
    const err = await rejectionOf(runtime.openServedModel({ storeRoot, agent: "damaged" }, { addon, requireTensorRT: true }));
    assert.equal(err.code, "TENSORRT_REQUIRED");
    assert.match(err.message, /ENGINE_CHECKSUM_MISMATCH/);
  });

  await check(
    "hot swap under load: a ModelSlot moves to a newly published version, no request fails, the old engine is disposed",
    async () => {
      await publishStub("swap", "v1");
      const slot = await runtime.openModelSlot({ storeRoot, agent: "swap" }, { addon, requireTensorRT: true, pollMs: 50 });
      const batcher = runtime.createBatcher({ maxQueueDelayMs: 2, maxQueue: 256 });
      const served = new Set();
      let stop = false;
      let failures = 0;
      const client = async (c) => {
        for (let i = 0; !stop; i++) {
          // A lease on the slot's current version from tokenization to the answer, as the server takes one.
          const admitted = runtime.admit(slot, { texts: [articles[(c * 31 + i) % articles.length]], truncate: true });
          const tokens = admitted.tokens;
          try {
            const result = await batcher.infer(admitted);
            checkResult(result.outputs, tokens, `swap client ${c}`);
            served.add(result.evidence.version);
          } catch (err) {
            failures += 1;
            console.error(err);
          }
        }
      };
      const old = slot.current;
      const clients = Array.from({ length: 4 }, (_, c) => client(c));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await publishStub("swap", "v2");
      const deadline = Date.now() + 30_000;
      while (slot.current.version !== "v2" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 300));
      stop = true;
      await Promise.all(clients);
      assert.equal(slot.current.version, "v2", "the slot did not move to v2");
      assert.equal(failures, 0);
      assert.deepEqual([...served].sort(), ["v1", "v2"]);
      await batcher.close();
      await slot.close();
      const err = await rejectionOf(old.run(old.tokenize(["after"], { truncate: true })));
      return `served by ${[...served].join(" and ")}; the old model after disposal: ${err.code ?? err.message}`;
    },
  );

  await check("dispose(): the engine is freed and later runs are refused", async () => {
    await model.dispose();
    const err = await rejectionOf(model.run(model.tokenize([articles[0]], { truncate: true })));
    return `${err.code ?? ""} ${err.message}`.trim();
  });

  console.log(`# ${checkedValues} output values checked through @trtforge/runtime`);
  console.log(`# all ${passed} checks passed`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
