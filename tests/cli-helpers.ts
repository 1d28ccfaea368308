import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");
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
export function runCli(command: "build-engine" | "verify-engine" | "model-store", args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
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
