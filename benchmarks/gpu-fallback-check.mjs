#!/usr/bin/env node
// Opens a published version as a GPU worker does (ONNX Runtime's CUDA provider first, then the CPU)
// and prints one JSON line: the evidence (execution_provider, cuda_fallback_reason) and the detail,
// or the error's code when it refuses (--require-gpu). For checking the fallback order on a real GPU
// host in its three states: provider absent, CUDA libraries off the loader's path, everything there.
//
//   node benchmarks/gpu-fallback-check.mjs --cli DIR --store-root STORE --agent trt-embeddings [--require-gpu]
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    cli: { type: "string" },
    "store-root": { type: "string" },
    agent: { type: "string", default: "trt-embeddings" },
    "require-gpu": { type: "boolean", default: false },
    label: { type: "string", default: "" },
  },
});
const runtimeEntry = createRequire(join(resolve(values.cli), "package.json")).resolve("@trtforge/runtime");
const runtime = await import(pathToFileURL(runtimeEntry).href);
try {
  const model = await runtime.openServedModel(
    { storeRoot: values["store-root"], agent: values.agent },
    { onnxCuda: true, requireGpu: values["require-gpu"] },
  );
  await runtime.warmUp(model);
  console.log(JSON.stringify({ label: values.label, ok: true, evidence: model.evidence, detail: model.fallbackDetail }));
  await model.dispose();
} catch (err) {
  console.log(
    JSON.stringify({ label: values.label, ok: false, code: err.code, exit_code: err.exitCode, message: err.message, details: err.details }),
  );
}
