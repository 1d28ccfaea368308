import { existsSync } from "node:fs";
import { ForgeError } from "@trtforge/core";
import { checkPythonEnvironment, execCommand, pythonInterpreterPath, readToolchain } from "@trtforge/toolchain";

/**
 * The pinned Python environment, checked before anything is exported: the interpreter must exist
 * and every package must be the version of toolchain_versions.md. A mismatch names the package
 * and both versions; nothing runs on a Python we did not pin.
 */
export async function checkedPython(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const python = pythonInterpreterPath(env);
  // One probe per interpreter and process: the exporter and the CPU-serving optimizer of one build
  // both ask, and the probe starts Python with torch. Only a passed check is remembered.
  const known = passed.get(python);
  if (known !== undefined) return known;
  const checking = checkPython(python, env);
  passed.set(python, checking);
  checking.catch(() => passed.delete(python));
  return checking;
}

const passed = new Map<string, Promise<string>>();

async function checkPython(python: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!existsSync(python)) {
    throw new ForgeError("PYTHON_UNAVAILABLE", `the pinned Python environment is missing: no interpreter at ${python}`, {
      input: python,
      fix: "run `build-engine setup` (or bash scripts/setup-python.sh), or set TRTFORGE_PYTHON to a Python with the versions of toolchain_versions.md",
    });
  }
  const probes = await checkPythonEnvironment({ exec: execCommand, env }, readToolchain());
  const bad = probes.filter((p) => p.status !== "ok");
  if (bad.length > 0) {
    const mismatch = bad.every((p) => p.status === "mismatch");
    throw new ForgeError(
      mismatch ? "PYTHON_VERSION_MISMATCH" : "PYTHON_UNAVAILABLE",
      `the Python environment at ${python} does not match toolchain_versions.md:\n${bad
        .map((p) => `  ${p.component}: found ${p.found ?? "nothing"}, pinned ${p.expected ?? "?"}`)
        .join("\n")}`,
      {
        input: python,
        fix:
          bad
            .map((p) => p.fix)
            .filter(Boolean)
            .join("; ") || "run `build-engine setup`",
      },
    );
  }
  return python;
}
