import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO_ROOT = join(import.meta.dirname, "../../../..");
const FIXTURE_SCRIPT = join(import.meta.dirname, "../python/make_fixtures.py");

/**
 * $TRTFORGE_PYTHON, else the project's pinned environment. Its absence fails the tests that need
 * it: a skipped checker run would let CI pass without checking anything.
 */
export function python(): string {
  const override = process.env.TRTFORGE_PYTHON;
  const interpreter = override !== undefined && override !== "" ? override : join(REPO_ROOT, ".venv", "bin", "python");
  if (interpreter.includes("/") && !existsSync(interpreter)) {
    throw new Error(`no Python interpreter at ${interpreter}: run bash scripts/setup-python.sh (or set TRTFORGE_PYTHON)`);
  }
  return interpreter;
}

export interface PythonFixtures {
  tinyBert: string;
  tinyBertExternal: string;
  features: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fixture models, built once per fixture-script version and shared by the test files (which
 * vitest runs in parallel workers): the first worker builds them under a lock directory, the
 * others wait for the finished folder.
 */
export async function pythonFixtures(): Promise<PythonFixtures> {
  const key = createHash("sha256").update(readFileSync(FIXTURE_SCRIPT)).update(python()).digest("hex").slice(0, 16);
  const folder = join(tmpdir(), `trtforge-onnx-graph-fixtures-${key}`);
  const manifest = join(folder, "fixtures.json");
  const lock = `${folder}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (existsSync(manifest)) return JSON.parse(await readFile(manifest, "utf8")) as PythonFixtures;
    try {
      await mkdir(lock);
    } catch {
      // Another worker is building; a lock older than 5 minutes belongs to a run that died.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 300_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(250);
      continue;
    }
    try {
      if (existsSync(manifest)) continue;
      const building = `${folder}.tmp-${process.pid}`;
      await rm(building, { recursive: true, force: true });
      const { stdout } = await run(python(), [FIXTURE_SCRIPT, building], {
        timeout: 240_000,
        maxBuffer: 1 << 24,
        env: { ...process.env, HF_HUB_OFFLINE: "1" },
      });
      const paths = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, string>;
      const moved = Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, path.replace(building, folder)]));
      await writeFile(join(building, "fixtures.json"), JSON.stringify(moved));
      await rm(folder, { recursive: true, force: true });
      await rename(building, folder);
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

/** onnx.checker.check_model(path, full_check=True): rejects with the checker's message on failure. */
export async function checkWithOnnx(path: string): Promise<void> {
  await run(python(), ["-c", "import onnx,sys; onnx.checker.check_model(sys.argv[1], full_check=True)", path], { timeout: 60_000 });
}
