import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "./cli-helpers.js";

const REPORTER = join(ROOT, "scripts/vitest-summary.mjs");
// vitest.mjs is not an export of the package; its folder is found through package.json, which is.
const VITEST = join(dirname(createRequire(join(ROOT, "package.json")).resolve("vitest/package.json")), "vitest.mjs");

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Runs vitest on `files` the way scripts/test.sh does, returning its exit status and summary line. */
async function runSuite(files: Record<string, string>): Promise<{ status: number | null; summary: string | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), "vitest-summary-"));
  made.push(dir);
  // globals: the fixture files live outside the repository, where `import "vitest"` does not resolve.
  await writeFile(join(dir, "vitest.config.mjs"), "export default { test: { globals: true, include: ['*.spec.mjs'] } };\n");
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const child = spawn(process.execPath, [VITEST, "run", "--root", dir, "--reporter=default", `--reporter=${REPORTER}`], {
    cwd: dir,
    env: { ...process.env, TRTFORGE_TEST_LABEL: "fixture", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.resume();
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  return { status, summary: stdout.split("\n").find((line) => line.startsWith("fixture: ")) };
}

describe("scripts/test.sh's summary line (scripts/vitest-summary.mjs)", () => {
  it("counts passed, failed and skipped tests", async () => {
    const run = await runSuite({
      "a.spec.mjs": "it('passes', () => {}); it('fails', () => { expect(1).toBe(2); }); it.skip('skipped', () => {});\n",
    });
    expect(run.status).toBe(1);
    expect(run.summary).toBe("fixture: 1 passed, 1 failed, 1 skipped");
  }, 120_000);

  it("counts an unhandled rejection as a failure, so a red run never reads 0 failed", async () => {
    // The shape of the staging test's old bug: a promise started, rejected later, claimed by nobody.
    const run = await runSuite({
      "a.spec.mjs": [
        "it('starts a promise nobody awaits', async () => {",
        "  void new Promise((_, reject) => setTimeout(() => reject(new Error('STORE_VERSION_EXISTS')), 10));",
        "  await new Promise((r) => setTimeout(r, 200));",
        "});",
        "",
      ].join("\n"),
    });
    expect(run.status).not.toBe(0);
    expect(run.summary).toBe("fixture: 1 passed, 1 failed (0 tests, 1 unhandled error)");
  }, 120_000);

  it("counts a test file that fails to load", async () => {
    const run = await runSuite({
      "ok.spec.mjs": "it('passes', () => {});\n",
      "broken.spec.mjs": "import './missing-module.mjs';\nit('never runs', () => {});\n",
    });
    expect(run.status).not.toBe(0);
    expect(run.summary).toBe("fixture: 1 passed, 1 failed (0 tests, 1 test file that failed to run)");
  }, 120_000);
});
