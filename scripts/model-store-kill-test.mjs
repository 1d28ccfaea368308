#!/usr/bin/env node
// Crash-safety check of the model store: publishers killed with SIGKILL at random moments.
//
//   node scripts/model-store-kill-test.mjs [--mb 50] [--kills 50] [--keep-store]
//
// Each round starts `model-store publish` of a multi-file tree in a child process and SIGKILLs it,
// half the time at a uniformly random moment of a publish, half the time while its staging folder
// exists. Meanwhile an observer polls versions/; after each kill the script checks that
//   - `current` resolves to a complete version that passes verify,
//   - everything under versions/ is either a finalized, verifiable version or staging (.tmp/.claim-),
// and at the end that the next writer and gc remove the staging folders the dead writers left.
// Prints a JSON summary; exits 1 on any violation. tests/model-store/kill.test.ts runs a small
// version of the same (runKillTest with ~10 MB and 10 kills). Needs a build (tsc -b packages/cli).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gc, listVersions, publish, resolveCurrent, verifyVersion } from "@trtforge/model-store";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const cliBin = join(repoRoot, "packages", "cli", "bin", "model-store.js");
const AGENT = "killtest";

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A tree of `totalMb` spread over 4 folders and 16 files of random bytes. */
async function makeSourceTree(dir, totalMb) {
  const perFile = Math.max(1, Math.floor((totalMb * 1e6) / 16));
  for (let i = 0; i < 16; i += 1) {
    const sub = join(dir, `part-${i % 4}`, i % 2 === 0 ? "" : "nested");
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `weights-${i}.bin`), randomBytes(perFile));
  }
  await writeFile(join(dir, "config.json"), JSON.stringify({ model_type: "bert", note: "kill test" }));
}

function startPublish(root, version, source, env) {
  const child = spawn(process.execPath, [cliBin, "publish", "--root", root, "--agent", AGENT, "--version", version, "--json", source], {
    env: { ...process.env, ...env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited };
}

const isStaging = (name) => name.endsWith(".tmp") || name.startsWith(".claim-");

/** Cheap check run while a publisher works: every non-staging entry must already have its final manifest. */
async function observeOnce(versionsDir, violations) {
  let names;
  try {
    names = await readdir(versionsDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (isStaging(name)) continue;
    const dir = join(versionsDir, name);
    if (!existsSync(dir)) continue; // removed meanwhile
    if (!existsSync(join(dir, "manifest.json"))) violations.push(`observer: ${name} visible under versions/ without manifest.json`);
  }
}

/** The full check after a kill: current is complete and verifies; versions/ holds only finalized versions and staging. */
async function checkInvariants(root, violations, label) {
  const current = await resolveCurrent({ root, agent: AGENT, strict: true }).catch((err) => {
    violations.push(`${label}: current does not resolve: ${err.message}`);
    return undefined;
  });
  if (current !== undefined) {
    const report = await verifyVersion({ root, agent: AGENT });
    if (!report.ok) violations.push(`${label}: current ${current.version} fails verify: ${report.problems[0]?.message}`);
  }
  const versionsDir = join(root, AGENT, "versions");
  let staging = 0;
  for (const name of await readdir(versionsDir)) {
    if (isStaging(name)) {
      staging += 1;
      continue;
    }
    const report = await verifyVersion({ root, agent: AGENT, version: name }).catch((err) => ({
      ok: false,
      problems: [{ message: err.message }],
    }));
    if (!report.ok) violations.push(`${label}: ${name} is visible but not a complete version: ${report.problems[0]?.message}`);
  }
  return staging;
}

export async function runKillTest(options = {}) {
  const totalMb = options.mb ?? 50;
  const kills = options.kills ?? 50;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const env = { MODEL_STORE_LOCK_STALE_MS: String(options.lockStaleMs ?? 2000) };
  const work = await mkdtemp(join(options.tmp ?? tmpdir(), "model-store-kill-"));
  const root = join(work, "store");
  const source = join(work, "source");
  const versionsDir = join(root, AGENT, "versions");
  const violations = [];
  const outcomes = { completed_before_kill: 0, killed: 0, killed_while_staging: 0, staging_left_behind: 0, finalized_despite_kill: 0 };
  const started = Date.now();
  try {
    await makeSourceTree(source, totalMb);
    await publish({ root, agent: AGENT, version: "base", sourceDir: source });

    // Calibrate: how long an undisturbed publish takes in a child process.
    const t0 = Date.now();
    const calibration = await startPublish(root, "calibration", source, env).exited;
    const publishMs = Date.now() - t0;
    if (calibration.code !== 0) throw new Error(`calibration publish failed: ${calibration.stderr}`);

    for (let round = 1; round <= kills; round += 1) {
      const version = `k${String(round).padStart(3, "0")}`;
      const stagingPath = join(versionsDir, `${version}.tmp`);
      const whileStaging = round % 2 === 0;
      const { child, exited } = startPublish(root, version, source, env);
      let done = false;
      let result;
      exited.then((r) => {
        done = true;
        result = r;
      });
      let killAt = whileStaging ? undefined : Date.now() + Math.random() * publishMs;
      let sawStaging = false;
      while (!done) {
        await observeOnce(versionsDir, violations);
        if (whileStaging && killAt === undefined && existsSync(stagingPath)) {
          sawStaging = true;
          killAt = Date.now() + Math.random() * publishMs * 0.3;
        }
        if (killAt !== undefined && Date.now() >= killAt) {
          child.kill("SIGKILL");
          break;
        }
        await sleep(2);
      }
      result = await exited;
      if (result.signal === "SIGKILL") {
        outcomes.killed += 1;
        if (sawStaging) outcomes.killed_while_staging += 1;
      } else {
        outcomes.completed_before_kill += 1;
        if (result.code !== 0)
          violations.push(`${version}: publisher failed on its own (exit ${result.code}): ${result.stderr.trim().split("\n").pop()}`);
      }
      const names = await readdir(versionsDir);
      if (result.signal === "SIGKILL" && names.includes(version)) outcomes.finalized_despite_kill += 1;
      if (names.includes(`${version}.tmp`)) outcomes.staging_left_behind += 1;
      await checkInvariants(root, violations, version);
    }

    // The next writer removes what the dead ones left behind.
    const leftBefore = (await readdir(versionsDir)).filter(isStaging);
    const next = await startPublish(root, "next-writer", source, env).exited;
    if (next.code !== 0) violations.push(`next writer failed: ${next.stderr}`);
    const leftAfter = (await listVersions({ root, agent: AGENT })).staging;
    if (leftAfter.length > 0)
      violations.push(`next writer left staging behind: ${leftAfter.map((s) => `${s.name} (${s.reason})`).join(", ")}`);
    await checkInvariants(root, violations, "after next writer");

    // gc cleans too: leave one more dead writer's staging (bounded attempts) and collect it.
    let gcCleaned = 0;
    for (let attempt = 0; attempt < 5 && gcCleaned === 0; attempt += 1) {
      const version = `gc-${attempt}`;
      const { child, exited } = startPublish(root, version, source, env);
      const stagingPath = join(versionsDir, `${version}.tmp`);
      let finished = false;
      exited.then(() => (finished = true));
      while (!finished && !existsSync(stagingPath)) await sleep(1);
      child.kill("SIGKILL");
      await exited;
      if (!existsSync(stagingPath)) continue;
      const report = await gc({ root, agent: AGENT, keep: 3, lockStaleMs: options.lockStaleMs ?? 2000 });
      gcCleaned = report.agents[0]?.staleStaging.length ?? 0;
      if (existsSync(stagingPath)) violations.push(`gc left ${version}.tmp behind`);
    }
    if (gcCleaned === 0) violations.push("could not leave a staging folder behind for gc to clean (publisher too fast?)");
    await checkInvariants(root, violations, "after gc");
    // A run whose publishers all finished before their kill tested nothing: never ok.
    if (outcomes.killed === 0)
      violations.push(
        `no kill landed: all ${kills} publishers finished before their kill (${publishMs} ms each); raise --mb so that publishing takes longer`,
      );
    const finalVersions = (await listVersions({ root, agent: AGENT })).versions.map((v) => v.version);

    return {
      ok: violations.length === 0,
      mb: totalMb,
      kills,
      undisturbed_publish_ms: publishMs,
      ...outcomes,
      staging_before_next_writer: leftBefore.length,
      staging_after_next_writer: leftAfter.length,
      staging_cleaned_by_gc: gcCleaned,
      versions_after_gc: finalVersions,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      violations,
    };
  } finally {
    if (!options.keepStore) await rm(work, { recursive: true, force: true });
    else log(`store kept in ${work}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      mb: { type: "string", default: "50" },
      kills: { type: "string", default: "50" },
      "keep-store": { type: "boolean", default: false },
    },
  });
  const summary = await runKillTest({ mb: Number(values.mb), kills: Number(values.kills), keepStore: values["keep-store"] });
  console.log(JSON.stringify(summary, null, 2));
  process.exitCode = summary.ok ? 0 : 1;
}
