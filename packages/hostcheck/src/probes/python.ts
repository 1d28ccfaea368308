import { join } from "node:path";
import { projectRoot } from "@trtforge/core";
import { z } from "zod";
import { compareWithToolchain } from "../compare-with-toolchain.js";
import type { ExecResult, HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";
import { PYTHON_PACKAGES, type PythonPackage } from "../python-packages.js";
import type { Toolchain } from "../toolchain.js";

const PYTHON_TIMEOUT_MS = 60_000;

/**
 * Versions come from importlib.metadata, never from importing the packages: importing torch takes
 * seconds and may initialise CUDA. onnxruntime-gpu installs the same `onnxruntime` module under
 * another distribution name, so it stands in for onnxruntime when that is absent.
 */
const VERSIONS_SCRIPT = `
import json, platform
from importlib import metadata
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
packages = {name: version(name) for name in ${JSON.stringify(PYTHON_PACKAGES)}}
gpu_runtime = version("onnxruntime-gpu")
if packages["onnxruntime"] is None and gpu_runtime is not None:
    packages["onnxruntime"] = gpu_runtime
print(json.dumps({"python": platform.python_version(), "packages": packages, "onnxruntime_gpu": gpu_runtime is not None}))
`;

const VersionsReport = z.object({
  python: z.string(),
  packages: z.object(Object.fromEntries(PYTHON_PACKAGES.map((name) => [name, z.string().nullable()])) as Record<PythonPackage, z.ZodNullable<z.ZodString>>),
  onnxruntime_gpu: z.boolean(),
});
type VersionsReport = z.infer<typeof VersionsReport>;

/** `$TRTFORGE_PYTHON` when set, else the project's own environment. */
export function pythonInterpreterPath(env: NodeJS.ProcessEnv): string {
  const override = env.TRTFORGE_PYTHON;
  return override !== undefined && override !== "" ? override : join(projectRoot(), ".venv", "bin", "python");
}

/** One result for the interpreter, then one per package in PYTHON_PACKAGES order. */
export async function probePython(deps: Pick<HostDeps, "exec" | "env">, toolchain: Toolchain): Promise<ProbeResult[]> {
  const interpreter = pythonInterpreterPath(deps.env);
  const createEnvironment = `create the pinned Python environment at ${join(projectRoot(), ".venv")} (or set TRTFORGE_PYTHON)`;
  const run = await deps.exec(interpreter, ["-c", VERSIONS_SCRIPT], { timeoutMs: PYTHON_TIMEOUT_MS });

  if (run.notFound) {
    const detail = `no Python interpreter at ${interpreter}`;
    return [
      { id: "python", label: "Python", status: "missing", expected: toolchain.get("python")?.accepted, detail, fix: createEnvironment },
      ...packagesNotChecked(toolchain, interpreter, "missing", `not checked: ${detail}`),
    ];
  }
  const failure = runFailure(run, interpreter);
  const report = failure === undefined ? readReport(run.stdout) : undefined;
  if (report === undefined) {
    const detail = failure ?? `${interpreter} printed no version report: ${lastLines(run.stdout) || "(no output)"}`;
    return [
      { id: "python", label: "Python", status: "error", expected: toolchain.get("python")?.accepted, detail, fix: `check that ${interpreter} runs, or point TRTFORGE_PYTHON at a working interpreter` },
      ...packagesNotChecked(toolchain, interpreter, "error", `not checked: the version probe failed under ${interpreter}`),
    ];
  }

  const interpreterResult = compareWithToolchain(toolchain, {
    id: "python",
    label: "Python",
    component: "python",
    found: report.python,
    context: interpreter,
    fixWhenMismatched: (entry) => `create the pinned Python environment (Python ${entry.pinned}) at ${join(projectRoot(), ".venv")}, or set TRTFORGE_PYTHON to a Python within ${entry.accepted}`,
  });
  return [interpreterResult, ...PYTHON_PACKAGES.map((name) => packageResult(report, name, interpreter, toolchain))];
}

function packageResult(report: VersionsReport, name: PythonPackage, interpreter: string, toolchain: Toolchain): ProbeResult {
  const version = report.packages[name];
  if (version === null) {
    return {
      id: name,
      label: name,
      status: "missing",
      expected: toolchain.get(name)?.accepted,
      detail: `${name} is not installed in ${interpreter}`,
      fix: installFix(toolchain, interpreter, name),
    };
  }
  const distribution = name === "onnxruntime" && report.onnxruntime_gpu ? " (onnxruntime-gpu distribution)" : "";
  return compareWithToolchain(toolchain, {
    id: name,
    label: name,
    component: name,
    found: version,
    context: `${interpreter}${distribution}`,
    fixWhenMismatched: () => installFix(toolchain, interpreter, name),
  });
}

function packagesNotChecked(toolchain: Toolchain, interpreter: string, status: "missing" | "error", detail: string): ProbeResult[] {
  return PYTHON_PACKAGES.map((name) => ({
    id: name,
    label: name,
    status,
    expected: toolchain.get(name)?.accepted,
    detail,
    fix: installFix(toolchain, interpreter, name),
  }));
}

function installFix(toolchain: Toolchain, interpreter: string, name: PythonPackage): string {
  const pinned = toolchain.get(name)?.pinned;
  return `${interpreter} -m pip install ${pinned === undefined ? name : `${name}==${pinned}`}`;
}

function runFailure(run: ExecResult, interpreter: string): string | undefined {
  if (run.timedOut) return `${interpreter} did not answer within ${PYTHON_TIMEOUT_MS / 1000} s`;
  if (run.exitCode !== 0) {
    const how = run.exitCode === null ? "did not exit normally" : `exited with code ${run.exitCode}`;
    return `${interpreter} ${how}: ${lastLines(run.stderr) || "(no stderr)"}`;
  }
  return undefined;
}

/** The report is the last line printed: a sitecustomize or a warning may print before it. */
function readReport(stdout: string): VersionsReport | undefined {
  const lastLine = stdout.trim().split(/\r?\n/).at(-1) ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    return undefined;
  }
  const checked = VersionsReport.safeParse(parsed);
  return checked.success ? checked.data : undefined;
}

function lastLines(text: string, count = 20): string {
  return text.trim().split(/\r?\n/).slice(-count).join("\n");
}
