import { checkPythonEnvironment, type Toolchain } from "@trtforge/toolchain";
import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";

/** One result for the interpreter, then one per package in PYTHON_PACKAGES order. */
export async function probePython(deps: Pick<HostDeps, "exec" | "env">, toolchain: Toolchain): Promise<ProbeResult[]> {
  const checks = await checkPythonEnvironment(deps, toolchain);
  return checks.map(({ component, ...check }) => ({ id: component, label: component === "python" ? "Python" : component, ...check }));
}
