// Runs the addon's CUDA paths on a real GPU against the stub TensorRT runtime (stub_runtime.cu),
// through @trtforge/native's loader: devices, loading a stub plan that declares a real model's
// I/O tensors, inferences of many shapes with every output value checked against the stub
// kernel's formula, concurrent and queued inferences, errors, dispose (explicit, with work queued,
// and by garbage collection) and exit while work is queued (a child process). Started by
// scripts/gpu-smoke.sh, normally under compute-sanitizer.
//
//   node --expose-gc gpu-smoke.mjs <native dir> <stub plan> <metadata.json> <TensorRT a.b.c.d>
//   node gpu-smoke.mjs --exit-while-queued <native dir> <stub plan> <metadata.json> <a.b.c.d>
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rowChecksums, stubValue } from "./stub-formula.mjs";

const args = process.argv.slice(2);
const exitWhileQueued = args[0] === "--exit-while-queued";
const [nativeDir, planPath, metadataPath, version] = exitWhileQueued ? args.slice(1) : args;
if (!nativeDir || !planPath || !metadataPath || !version) {
  console.error("usage: node --expose-gc gpu-smoke.mjs [--exit-while-queued] <native dir> <stub plan> <metadata.json> <a.b.c.d>");
  process.exit(2);
}
const { loadAddon } = await import(pathToFileURL(join(nativeDir, "dist", "index.js")).href);
const plan = readFileSync(planPath);
const metadata = JSON.parse(readFileSync(metadataPath, "utf8"));

const status = loadAddon();
assert.ok(status.available, `the addon did not load: ${status.message ?? ""} ${status.fix ?? ""}`);
const addon = status.binding;

// ---- inputs, and what the stub kernel computes from them (stub-formula.mjs) -------------------

/** Deterministic inputs like a tokenizer's: ids in the vocabulary, a padded mask, segment ids. */
function makeInputs(batch, seq, seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const ids = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * seq);
  const types = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const length = 1 + (next() % seq);
    for (let s = 0; s < seq; s++) {
      const i = b * seq + s;
      const real = s < length;
      ids[i] = BigInt(real ? (s === 0 ? 101 : 1000 + (next() % 29000)) : 0);
      mask[i] = real ? 1n : 0n;
      types[i] = BigInt(real && s > length / 2 ? 1 : 0);
    }
  }
  return {
    input_ids: { data: ids, shape: [batch, seq] },
    attention_mask: { data: mask, shape: [batch, seq] },
    token_type_ids: { data: types, shape: [batch, seq] },
  };
}

function checksums(inputs, batch) {
  return rowChecksums(
    metadata.inputs.map((spec) => {
      const { data, shape } = inputs[spec.name];
      return { data, rowLength: shape.slice(1).reduce((a, b) => a * b, 1) };
    }),
    batch,
  );
}

/** Checks every element of every output; returns how many values were compared. */
function checkOutputs(outputs, inputs, batch, seq, label) {
  const sums = checksums(inputs, batch);
  let compared = 0;
  metadata.outputs.forEach((spec, o) => {
    const out = outputs[spec.name];
    assert.ok(out, `${label}: output ${spec.name} missing`);
    const expectedShape = spec.min_shape.map((min, d) => (min === spec.max_shape[d] ? min : d === 0 ? batch : seq));
    assert.deepEqual(out.shape, expectedShape, `${label}: shape of ${spec.name}`);
    assert.equal(spec.dtype, "float32", "this check reads float32 outputs");
    assert.ok(out.data instanceof Float32Array, `${label}: ${spec.name} is not a Float32Array`);
    const row = expectedShape.slice(1).reduce((a, b) => a * b, 1);
    assert.equal(out.data.length, row * batch, `${label}: element count of ${spec.name}`);
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < row; k++) {
        const expected = stubValue(sums[b], k, o);
        const actual = out.data[b * row + k];
        if (actual !== expected) {
          assert.fail(`${label}: ${spec.name}[${b}, ${k}] is ${actual}, expected ${expected}`);
        }
      }
    }
    compared += out.data.length;
  });
  return compared;
}

// ---- the child: exit while inferences are queued ---------------------------------------------
if (exitWhileQueued) {
  const engine = addon.loadEngine(plan, 0);
  const max = metadata.inputs[0].max_shape;
  for (let i = 0; i < 6; i++) engine.run(makeInputs(max[0], max[1], 900 + i)).catch(() => {});
  console.log("child: 6 inferences queued, exiting now");
  process.exit(0);
}

// ---- the checks ---------------------------------------------------------------------------------
let passed = 0;
const check = async (name, fn) => {
  const started = Date.now();
  const note = await fn();
  passed += 1;
  console.log(`ok ${passed} - ${name}${note ? ` (${note})` : ""} [${Date.now() - started} ms]`);
};

await check("addon loaded through @trtforge/native's loadAddon with the stub library", () => {
  assert.equal(addon.trtVersion(), version);
  assert.equal(addon.compiledTrtVersion(), version);
  return `${status.path}, TensorRT (stub) ${addon.trtVersion()}`;
});

let devices;
await check("devices() lists the visible GPUs with compute capability and UUID", () => {
  devices = addon.devices();
  assert.ok(devices.length >= 1, "no GPU visible");
  devices.forEach((d, i) => {
    assert.equal(d.index, i);
    assert.match(d.computeCapability, /^\d+\.\d+$/);
    assert.match(d.uuid, /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(d.totalMemoryBytes > 0 && d.multiProcessorCount > 0);
  });
  const pinned = process.env.CUDA_VISIBLE_DEVICES;
  if (pinned !== undefined && pinned !== "") {
    assert.equal(devices.length, pinned.split(",").length, `CUDA_VISIBLE_DEVICES=${pinned} but ${devices.length} devices are visible`);
  }
  if (process.env.EXPECT_GPU_UUID) assert.equal(devices[0].uuid, process.env.EXPECT_GPU_UUID);
  console.log(`# devices: ${JSON.stringify(devices)}`);
  return devices.map((d) => `${d.index}: ${d.name} cc ${d.computeCapability} ${d.uuid}`).join("; ");
});

const logs = [];
const engine = addon.loadEngine(plan, 0, { onLog: (m) => logs.push(m), logSeverity: "info" });

await check("loadEngine: the engine's I/O tensors are the model's (names, dtypes, -1 dims, profile)", () => {
  const io = engine.ioTensors();
  const expected = [...metadata.inputs.map((s) => ({ ...s, mode: "input" })), ...metadata.outputs.map((s) => ({ ...s, mode: "output" }))];
  assert.equal(io.length, expected.length);
  expected.forEach((spec, i) => {
    const t = io[i];
    assert.equal(t.name, spec.name);
    assert.equal(t.mode, spec.mode);
    assert.equal(t.dtype, spec.dtype === "float32" ? "fp32" : spec.dtype);
    assert.equal(t.location, "device");
    assert.deepEqual(
      t.shape,
      spec.min_shape.map((m, d) => (m === spec.max_shape[d] ? m : -1)),
    );
    if (spec.mode === "input") assert.deepEqual(t.profile, { min: spec.min_shape, opt: spec.opt_shape, max: spec.max_shape });
  });
  assert.equal(engine.deviceId, 0);
  return io.map((t) => `${t.name} ${t.dtype} [${t.shape}]`).join(", ");
});

const [minB, minS] = metadata.inputs[0].min_shape;
const [optB, optS] = metadata.inputs[0].opt_shape;
const [maxB, maxS] = metadata.inputs[0].max_shape;
const shapes = [
  [minB, minS],
  [maxB, maxS],
  [optB, optS],
  [1, maxS],
  [maxB, minS],
  [3, 7],
  [5, 200],
  [17, 64],
  [2, 255],
];
let values = 0;
await check(
  `inference at ${shapes.length} shapes incl. the profile's min ${minB}x${minS} and max ${maxB}x${maxS}: every output value checked`,
  async () => {
    for (const [i, [b, s]] of shapes.entries()) {
      const inputs = makeInputs(b, s, 1 + i);
      const outputs = await engine.run(inputs);
      values += checkOutputs(outputs, inputs, b, s, `${b}x${s}`);
    }
    return `${values} values`;
  },
);

await check("12 inferences queued at once (one context, serialized) all return their own results", async () => {
  const jobs = Array.from({ length: 12 }, (_, i) => {
    const [b, s] = shapes[i % shapes.length];
    const inputs = makeInputs(b, s, 100 + i);
    return { b, s, inputs, promise: engine.run(inputs) };
  });
  let compared = 0;
  for (const job of jobs) compared += checkOutputs(await job.promise, job.inputs, job.b, job.s, `queued ${job.b}x${job.s}`);
  values += compared;
  return `${compared} values`;
});

await check("a shape outside the profile is refused by setInputShape (INPUT_MISMATCH, the recorder's message in details)", async () => {
  const error = await engine.run(makeInputs(maxB + 1, 4, 5)).then(
    () => assert.fail("batch above the profile's max ran"),
    (e) => e,
  );
  assert.equal(error.code, "INPUT_MISMATCH");
  assert.match(JSON.stringify(error.details ?? error.message), /optimization profile/);
  // and the engine still works afterwards
  const inputs = makeInputs(4, 9, 6);
  values += checkOutputs(await engine.run(inputs), inputs, 4, 9, "after refusal");
  return error.message;
});

await check("inspectorJson() comes back through the engine inspector", () => {
  const json = JSON.parse(engine.inspectorJson());
  assert.deepEqual(
    json.Bindings,
    [...metadata.inputs, ...metadata.outputs].map((t) => t.name),
  );
});

await check("dispose() while 4 inferences are queued: they finish correctly, then the engine is freed", async () => {
  const second = addon.loadEngine(plan, 0);
  const jobs = Array.from({ length: 4 }, (_, i) => {
    const inputs = makeInputs(maxB, 128, 300 + i);
    return { inputs, promise: second.run(inputs) };
  });
  second.dispose();
  assert.equal(second.disposed, true);
  assert.throws(() => second.run(makeInputs(1, 1, 1)), { code: "ENGINE_DISPOSED" });
  for (const job of jobs) values += checkOutputs(await job.promise, job.inputs, maxB, 128, "queued before dispose");
  second.dispose(); // idempotent
});

// Module-level, so the registry itself outlives the engines it watches.
const collected = new Set();
const registry = new FinalizationRegistry((id) => collected.add(id));
await check("engines dropped without dispose() are freed by garbage collection", async () => {
  assert.equal(typeof globalThis.gc, "function", "run with --expose-gc");
  collected.clear();
  const count = 16;
  await (async () => {
    for (let i = 0; i < count; i++) {
      const e = addon.loadEngine(plan, 0);
      const inputs = makeInputs(2, 16, 500 + i);
      values += checkOutputs(await e.run(inputs), inputs, 2, 16, `gc engine ${i}`);
      registry.register(e, i);
    }
  })();
  for (let round = 0; round < 50 && collected.size < count; round++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(collected.size, count, `only ${collected.size} of ${count} engines were collected`);
  return `${count} engines collected`;
});

await check("a child process that exits while 6 max-shape inferences are queued exits cleanly", () => {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--exit-while-queued", nativeDir, planPath, metadataPath, version],
    {
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  assert.equal(child.signal, null, `child killed by ${child.signal}: ${child.stderr}`);
  assert.equal(child.status, 0, `child exit ${child.status}: ${child.stderr}`);
  assert.match(child.stdout, /6 inferences queued/);
  return child.stdout.trim();
});

// Work left queued on the main engine when the script ends: the event loop drains it, then the
// teardown hooks free the engine at exit (no dispose()).
const tail = makeInputs(maxB, maxS, 999);
engine.run(tail).then((outputs) => {
  values += checkOutputs(outputs, tail, maxB, maxS, "left queued at the end");
  console.log(`ok ${passed + 1} - inference left queued at the end of the script finished and was checked`);
  console.log(`# ${values} output values checked; stub log lines: ${logs.filter((l) => l.message.includes("stub")).length}`);
  console.log(`# all ${passed + 1} checks passed`);
});
