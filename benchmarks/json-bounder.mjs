#!/usr/bin/env node
// How long the HTTP front's JsonTextBounder (packages/server/src/http/json-text-bounder.ts) holds
// the front's only thread per 8 MiB infer body, by body shape, fed in 64 KiB chunks as a socket
// hands them over (issue 20: every other request's forwarding waits meanwhile). Results: a table on
// stdout and JSON under logs/benchmarks/json-bounder.json.
//
//   pnpm exec tsc -b && node benchmarks/json-bounder.mjs [--repeats 10] [--max-units 4096]
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { root } from "./inputs.mjs";

const { values } = parseArgs({
  options: {
    repeats: { type: "string", default: "10" },
    // The front's text bound at sequence 128: maxTextBytes = 128 tokens × 32 bytes.
    "max-units": { type: "string", default: "4096" },
    out: { type: "string", default: join(root, "logs/benchmarks/json-bounder.json") },
  },
});
const { JsonTextBounder } = await import(process.env.BOUNDER_JS ?? join(root, "packages/server/dist/http/json-text-bounder.js"));
const EIGHT_MIB = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
const body = (data) =>
  Buffer.from(
    JSON.stringify({ parameters: { truncate: true }, inputs: [{ name: "text", datatype: "BYTES", shape: [data.length], data }] }),
  );

const shapes = {
  // benchmarks/abuse.mjs's huge text: one string, cut after max-units.
  "one text, plain": body(["news ".repeat(EIGHT_MIB / 5)]),
  // The same length of escapes (newlines and quotes as JSON writes them): the cut tail is all escapes.
  "one text, escapes": body(['line\n"q"\t'.repeat(EIGHT_MIB / 14)]),
  // Many texts each under the bound: nothing is cut, every byte is kept and forwarded.
  "many short texts": body(Array.from({ length: EIGHT_MIB / 64 }, (_, i) => `article ${i} `.padEnd(58, "x"))),
  // Texts with a few escapes each, under the bound.
  "many texts with escapes": body(Array.from({ length: EIGHT_MIB / 64 }, (_, i) => `say "${i}"\n`.padEnd(52, "y"))),
};

const repeats = Number(values.repeats);
const maxUnits = Number(values["max-units"]);
const results = {};
for (const [name, bytes] of Object.entries(shapes)) {
  const chunks = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  const ms = [];
  let kept = 0;
  for (let r = 0; r < repeats + 1; r += 1) {
    const started = performance.now();
    const bounder = new JsonTextBounder(maxUnits);
    for (const chunk of chunks) bounder.write(chunk);
    const { json } = bounder.end();
    const elapsed = performance.now() - started;
    kept = json.length;
    if (r > 0) ms.push(elapsed); // the first is warm-up (JIT)
  }
  ms.sort((a, b) => a - b);
  results[name] = { body_bytes: bytes.length, kept_bytes: kept, ms_median: ms[Math.floor(ms.length / 2)], ms_max: ms.at(-1) };
}
const report = { settings: { repeats, max_units: maxUnits, chunk_bytes: CHUNK, loadavg_1m: loadavg()[0] }, results };
await mkdir(join(root, "logs/benchmarks"), { recursive: true });
await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log("shape".padEnd(26), "MiB".padStart(6), "kept".padStart(10), "ms median".padStart(10), "ms max".padStart(8));
for (const [name, r] of Object.entries(results)) {
  console.log(
    name.padEnd(26),
    (r.body_bytes / 2 ** 20).toFixed(1).padStart(6),
    String(r.kept_bytes).padStart(10),
    r.ms_median.toFixed(1).padStart(10),
    r.ms_max.toFixed(1).padStart(8),
  );
}
console.log(`load average ${loadavg()[0].toFixed(2)}; JSON: ${values.out}`);
