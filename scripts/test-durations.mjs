#!/usr/bin/env node
// Per-file durations of a vitest run, slowest first, from its JSON report:
//   vitest run --reporter=json --outputFile.json=logs/test-durations/<name>.json
//   node scripts/test-durations.mjs logs/test-durations/<name>.json
// Durations are wall clock per file (two files run at once on two workers), so compare runs made
// under a similar load, noted beside the report.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/test-durations.mjs <vitest JSON report>");
  process.exit(2);
}
/** @type {{ testResults: { name: string; startTime: number; endTime: number; status: string; assertionResults: { status: string }[] }[] }} */
const report = JSON.parse(readFileSync(file, "utf8"));
const rows = report.testResults
  .map((r) => ({
    file: relative(process.cwd(), r.name),
    seconds: (r.endTime - r.startTime) / 1000,
    tests: r.assertionResults.length,
    failed:
      r.assertionResults.filter((a) => a.status === "failed").length +
      (r.status === "failed" && r.assertionResults.every((a) => a.status !== "failed") ? 1 : 0),
  }))
  .sort((a, b) => b.seconds - a.seconds);
const first = Math.min(...report.testResults.map((r) => r.startTime));
const last = Math.max(...report.testResults.map((r) => r.endTime));
for (const r of rows)
  console.log(
    `${r.seconds.toFixed(1).padStart(8)} s  ${String(r.tests).padStart(4)} tests${r.failed ? ` (${r.failed} failed)` : ""}  ${r.file}`,
  );
const sum = rows.reduce((s, r) => s + r.seconds, 0);
console.log(
  `${rows.length} files, ${rows.reduce((s, r) => s + r.tests, 0)} tests; file durations sum to ${sum.toFixed(0)} s; first start to last end ${((last - first) / 1000).toFixed(0)} s`,
);
