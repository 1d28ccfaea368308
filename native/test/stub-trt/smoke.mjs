// Runs against a trtforge_trt<major>.node linked to the stub TensorRT libraries (see run.sh), on
// a host without a GPU: every check below exercises the addon's own C++ (module init, option
// reading, the build worker, the event sink, error objects), never TensorRT.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [addonPath, version] = process.argv.slice(2);
const addon = createRequire(import.meta.url)(addonPath);
const major = Number(version.split(".")[0]);
let passed = 0;
const check = async (name, fn) => {
  await fn();
  passed += 1;
  console.log(`ok ${passed} - ${name}`);
};

const dir = mkdtempSync(join(tmpdir(), "trtforge-smoke-"));
const onnxPath = join(dir, "model.onnx");
writeFileSync(onnxPath, "not really onnx");
const base = { onnxPath, precision: "fp16", profiles: [{ input: "input_ids", min: [1, 8], opt: [8, 128], max: [32, 128] }] };

await check("exports and versions", () => {
  assert.equal(addon.trtMajor, major);
  assert.equal(addon.trtVersion(), version);
  assert.equal(addon.compiledTrtVersion(), version);
  for (const name of ["buildEngine", "loadEngine", "devices", "Engine"]) assert.equal(typeof addon[name], "function");
});

await check("devices() is [] without a GPU", () => {
  assert.deepEqual(addon.devices(), []);
});

await check("invalid options throw TypeErrors synchronously", () => {
  assert.throws(() => addon.buildEngine({}), { name: "TypeError", message: /onnxPath/ });
  assert.throws(() => addon.buildEngine({ ...base, precision: "fp8" }), { name: "TypeError", message: /precision/ });
  assert.throws(() => addon.buildEngine({ ...base, profiles: [{ input: "x", min: [2], opt: [1], max: [3] }] }), {
    name: "TypeError",
    message: /min <= opt <= max/,
  });
  assert.throws(() => addon.buildEngine({ ...base, builderOptimizationLevel: 9 }), { name: "TypeError" });
  assert.throws(() => addon.buildEngine({ ...base, excludeLeanRuntime: true }), { name: "TypeError" });
  assert.throws(() => addon.buildEngine(base, { onLog: 42 }), { name: "TypeError", message: /onLog/ });
});

await check(major >= 11 ? "TensorRT 11 refuses weak typing and calibration caches" : "TensorRT 10 accepts weak typing", async () => {
  if (major >= 11) {
    assert.throws(() => addon.buildEngine({ ...base, typing: "weak" }), { code: "TRT_MODE_REMOVED", message: /removed weak typing/ });
    assert.throws(() => addon.buildEngine({ ...base, precision: "int8", calibrationCache: Buffer.from("TRT-1-EntropyCalibration2\n") }), {
      code: "TRT_MODE_REMOVED",
      message: /calibration/,
    });
  } else {
    const job = addon.buildEngine({
      ...base,
      precision: "int8",
      typing: "weak",
      calibrationCache: Buffer.from("TRT-1-EntropyCalibration2\n"),
    });
    await assert.rejects(job.promise, (err) => typeof err.code === "string");
    assert.throws(() => addon.buildEngine({ ...base, calibrationCache: Buffer.from("x") }), {
      name: "TypeError",
      message: /calibrationCache/,
    });
  }
});

await check("a build without a GPU rejects TRT_UNAVAILABLE after delivering its events", async () => {
  const logs = [];
  const job = addon.buildEngine(base, { onLog: (entry) => logs.push(entry), onProgress: () => {} });
  assert.equal(typeof job.cancel, "function");
  await assert.rejects(job.promise, (err) => {
    assert.equal(err.code, "TRT_UNAVAILABLE");
    assert.match(err.message, /CUDA device 0|cudaError/);
    return true;
  });
});

await check("cancel() right after buildEngine rejects CANCELLED (or TRT_UNAVAILABLE if the worker already failed)", async () => {
  // The worker may start on a libuv thread before cancel() runs; without a GPU it then fails at
  // cudaSetDevice before any cancellation point.
  const job = addon.buildEngine(base);
  job.cancel();
  job.cancel(); // idempotent
  await assert.rejects(job.promise, (err) => ["CANCELLED", "TRT_UNAVAILABLE"].includes(err.code));
});

await check("loadEngine without a GPU throws TRT_UNAVAILABLE; Engine cannot be constructed", () => {
  assert.throws(() => addon.loadEngine(Buffer.from("ftrt")), { code: "TRT_UNAVAILABLE" });
  assert.throws(() => addon.loadEngine("nope"), { name: "TypeError" });
  assert.throws(() => new addon.Engine(), { name: "TypeError" });
});

rmSync(dir, { recursive: true, force: true });
console.log(`smoke: ${passed} passed, 0 failed`);
