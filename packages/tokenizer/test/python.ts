import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "../../..");

/**
 * The interpreter that produces the Hugging Face reference ids: $TRTFORGE_PYTHON, else the
 * project's pinned environment. Its absence fails the tests that need it; they are never skipped,
 * as a skipped comparison would pass CI without comparing anything.
 */
export function referencePython(): string {
  const override = process.env.TRTFORGE_PYTHON;
  const python = override !== undefined && override !== "" ? override : join(REPO_ROOT, ".venv", "bin", "python");
  // A bare command name is looked up on PATH by spawn; only a path can be checked here.
  if (python.includes("/") && !existsSync(python)) {
    throw new Error(
      `no Python interpreter at ${python} for the Hugging Face reference ids: run bash scripts/setup-python.sh ` +
        "to create the pinned environment (or set TRTFORGE_PYTHON to a Python with transformers)",
    );
  }
  return python;
}

/** Runs a script of this folder with `input` as JSON on stdin and parses its JSON stdout. */
export function runPythonScript(script: string, input: unknown, timeoutMs: number): Promise<unknown> {
  const python = referencePython();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(import.meta.dirname, script)], {
      env: { ...process.env, HF_HUB_OFFLINE: "1" },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (err) =>
      reject(new Error(`cannot run ${python}: ${err.message}; run bash scripts/setup-python.sh or set TRTFORGE_PYTHON`)),
    );
    child.on("close", (code, signal) => {
      if (code !== 0) {
        const tail = Buffer.concat(stderr).toString("utf8").trim().split("\n").slice(-15).join("\n");
        reject(new Error(`${python} ${script} ${signal ? `was stopped by ${signal}` : `exited with ${code}`}:\n${tail}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(stdout).toString("utf8")));
      } catch (err) {
        reject(new Error(`${script} printed no JSON: ${(err as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}
