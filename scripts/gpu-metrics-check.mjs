// On a GPU host: samples NVML through @trtforge/gpu-metrics (built dist) and compares each GPU's
// figures with nvidia-smi's, read right after. UUIDs and total memory must match exactly (NVML
// bytes vs nvidia-smi MiB); used memory within 64 MiB and utilization within 25 points, since the
// two readings are moments apart. Run by scripts/gpu-smoke.sh; exits 1 on any mismatch.
//
//   [GPU_METRICS_DIR=<the package or a deployed copy>] node scripts/gpu-metrics-check.mjs
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const packageDir = process.env.GPU_METRICS_DIR ?? new URL("../packages/gpu-metrics", import.meta.url).pathname;
const { createNvmlSampler } = await import(pathToFileURL(resolve(packageDir, "dist", "index.js")).href);

const MIB = 1024 * 1024;
const sampler = createNvmlSampler();
const samples = await sampler.sample();
const smi = execFileSync(
  "nvidia-smi",
  ["--query-gpu=index,uuid,memory.used,memory.total,utilization.gpu", "--format=csv,noheader,nounits"],
  { encoding: "utf8" },
)
  .trim()
  .split("\n")
  .map((line) => line.split(",").map((f) => f.trim()));
sampler.close();
console.log("nvml:", JSON.stringify(samples));
console.log("nvidia-smi --query-gpu=index,uuid,memory.used,memory.total,utilization.gpu:", JSON.stringify(smi));
assert.ok(samples, "NVML sample is null on a host where nvidia-smi works");
assert.equal(samples.length, smi.length, "GPU count");
for (const [index, uuid, used, total, util] of smi) {
  const s = samples.find((x) => x.uuid === uuid);
  assert.ok(s, `no NVML sample for ${uuid}`);
  assert.equal(s.index, Number(index));
  assert.equal(Math.floor(s.memoryTotalBytes / MIB), Number(total), `memory.total of ${uuid}`);
  assert.ok(
    Math.abs(s.memoryUsedBytes / MIB - Number(used)) <= 64,
    `memory.used of ${uuid}: ${s.memoryUsedBytes / MIB} MiB vs ${used} MiB`,
  );
  if (util === "[N/A]") assert.equal(s.utilizationPercent, null);
  else assert.ok(s.utilizationPercent !== null && Math.abs(s.utilizationPercent - Number(util)) <= 25, `utilization of ${uuid}`);
  console.log(
    `ok - ${uuid}: total ${s.memoryTotalBytes} B = ${total} MiB, used ${(s.memoryUsedBytes / MIB).toFixed(1)} MiB vs ${used} MiB, utilization ${s.utilizationPercent}% vs ${util}%`,
  );
}
