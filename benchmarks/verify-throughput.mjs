#!/usr/bin/env node
// Times `model-store verify` (the library's verifyVersion) against `sha256sum` on the same files.
// Usage: node benchmarks/verify-throughput.mjs [--files 5] [--mb 100] [--keep-store]
// Needs a build first (tsc -b packages/model-store). Page caches cannot be dropped here, so each
// side runs twice and the warm (second) run is reported; both then read from memory and the
// comparison is of hashing and per-file overhead, which is what the store controls.
// Results and the machine they came from: benchmarks/README.md.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, mkdir, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs, promisify } from "node:util";
import { publish, verifyVersion } from "@trtforge/model-store";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    files: { type: "string", default: "5" },
    mb: { type: "string", default: "100" },
    "keep-store": { type: "boolean", default: false },
  },
});
const fileCount = Number(values.files);
const fileMb = Number(values.mb);

async function writeRandomFile(path, bytes) {
  const handle = await open(path, "w");
  try {
    const block = 8 << 20;
    for (let written = 0; written < bytes; written += block) await handle.write(randomBytes(Math.min(block, bytes - written)));
  } finally {
    await handle.close();
  }
}

async function time(fn) {
  const started = performance.now();
  const result = await fn();
  return { seconds: (performance.now() - started) / 1000, result };
}

const work = await mkdtemp(join(tmpdir(), "verify-bench-"));
try {
  const source = join(work, "source");
  await mkdir(source);
  for (let i = 0; i < fileCount; i += 1) await writeRandomFile(join(source, `shard-${i}.bin`), fileMb * 1e6);
  const root = join(work, "store");
  const published = await publish({ root, agent: "bench", version: "v1", sourceDir: source });
  const files = Array.from({ length: fileCount }, (_, i) => join(published.path, `shard-${i}.bin`));
  const totalMb = published.totalBytes / 1e6;

  // Interleaved (verify, sha256sum, openssl, then again) so that load from other processes on a
  // shared machine hits all three alike; the second round is the warm one reported.
  const verifyRuns = [];
  const shaRuns = [];
  // OpenSSL uses the CPU's SHA extensions as Node does, while coreutils' sha256sum (before 9.5)
  // uses its own portable code: an informational second baseline.
  const opensslRuns = [];
  let haveOpenssl = true;
  for (let round = 0; round < 2; round += 1) {
    const verified = await time(() => verifyVersion({ root, agent: "bench" }));
    if (!verified.result.ok) throw new Error(`verify failed: ${JSON.stringify(verified.result.problems)}`);
    verifyRuns.push(verified.seconds);
    shaRuns.push((await time(() => run("sha256sum", files, { maxBuffer: 1 << 20 }))).seconds);
    if (haveOpenssl) {
      try {
        opensslRuns.push((await time(() => run("openssl", ["dgst", "-sha256", ...files], { maxBuffer: 1 << 20 }))).seconds);
      } catch {
        haveOpenssl = false;
      }
    }
  }
  const verifyRate = totalMb / verifyRuns[1];
  const shaRate = totalMb / shaRuns[1];
  const summary = {
    total_mb: Math.round(totalMb),
    files: fileCount,
    verify_seconds: verifyRuns.map((s) => Number(s.toFixed(3))),
    sha256sum_seconds: shaRuns.map((s) => Number(s.toFixed(3))),
    verify_mb_per_s: Math.round(verifyRate),
    sha256sum_mb_per_s: Math.round(shaRate),
    ratio: Number((verifyRate / shaRate).toFixed(2)),
    goal: ">= 0.8",
    ...(opensslRuns.length === 2
      ? {
          openssl_mb_per_s: Math.round(totalMb / opensslRuns[1]),
          ratio_to_openssl: Number((verifyRate / (totalMb / opensslRuns[1])).toFixed(2)),
        }
      : {}),
  };
  console.log(`model-store verify (warm): ${summary.verify_mb_per_s} MB/s`);
  console.log(`sha256sum          (warm): ${summary.sha256sum_mb_per_s} MB/s`);
  console.log(`ratio: ${summary.ratio}x (goal ${summary.goal})`);
  if (summary.openssl_mb_per_s !== undefined) {
    console.log(`openssl dgst       (warm): ${summary.openssl_mb_per_s} MB/s (verify/openssl ${summary.ratio_to_openssl}x)`);
  }
  console.log(JSON.stringify(summary));
} finally {
  if (!values["keep-store"]) await rm(work, { recursive: true, force: true });
  else console.error(`store kept in ${work}`);
}
