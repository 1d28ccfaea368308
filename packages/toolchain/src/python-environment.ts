import { join } from "node:path";
import { projectRoot } from "@trtforge/core";
import { z } from "zod";
import { compareWithToolchain } from "./compare-version.js";
import type { Exec, ExecResult } from "./exec.js";
import { PYTHON_PACKAGES, type PythonPackage } from "./python-packages.js";
import type { Toolchain } from "./toolchain.js";

/** What was found for the interpreter (`python`) or one of PYTHON_PACKAGES. */
export interface PythonCheck {
  component: "python" | PythonPackage;
  /** `missing`: not there; `error`: could not tell (a crash, a timeout, bad output). */
  status: "ok" | "missing" | "mismatch" | "error";
  found?: string;
  expected?: string;
  detail: string;
  fix?: string;
}

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
  packages: z.object(
    Object.fromEntries(PYTHON_PACKAGES.map((name) => [name, z.string().nullable()])) as Record<PythonPackage, z.ZodNullable<z.ZodString>>,
  ),
  onnxruntime_gpu: z.boolean(),
});
type VersionsReport = z.infer<typeof VersionsReport>;

/** `$TRTFORGE_PYTHON` when set, else the project's own environment. */
export function pythonInterpreterPath(env: NodeJS.ProcessEnv): string {
  const override = env.TRTFORGE_PYTHON;
  return override !== undefined && override !== "" ? override : join(projectRoot(), ".venv", "bin", "python");
}

/**
 * Runs the interpreter once and compares it and every package with the toolchain: one result for
 * the interpreter, then one per package in PYTHON_PACKAGES order. Never throws for what it finds.
 */
export async function checkPythonEnvironment(deps: { exec: Exec; env: NodeJS.ProcessEnv }, toolchain: Toolchain): Promise<PythonCheck[]> {
  const interpreter = pythonInterpreterPath(deps.env);
  const createEnvironment = `create the pinned Python environment at ${join(projectRoot(), ".venv")} (or set TRTFORGE_PYTHON)`;
  const run = await deps.exec(interpreter, ["-c", VERSIONS_SCRIPT], { timeoutMs: PYTHON_TIMEOUT_MS });

  if (run.notFound) {
    const detail = `no Python interpreter at ${interpreter}`;
    return [
      { component: "python", status: "missing", expected: toolchain.get("python")?.accepted, detail, fix: createEnvironment },
      ...packagesNotChecked(toolchain, interpreter, "missing", `not checked: ${detail}`),
    ];
  }
  const failure = runFailure(run, interpreter);
  const report = failure === undefined ? readReport(run.stdout) : undefined;
  if (report === undefined) {
    const detail = failure ?? `${interpreter} printed no version report: ${lastLines(run.stdout) || "(no output)"}`;
    return [
      {
        component: "python",
        status: "error",
        expected: toolchain.get("python")?.accepted,
        detail,
        fix: `check that ${interpreter} runs, or point TRTFORGE_PYTHON at a working interpreter`,
      },
      ...packagesNotChecked(toolchain, interpreter, "error", `not checked: the version probe failed under ${interpreter}`),
    ];
  }

  const interpreterResult = compareWithToolchain(toolchain, {
    component: "python",
    found: report.python,
    context: interpreter,
    fixWhenMismatched: (entry) =>
      `create the pinned Python environment (Python ${entry.pinned}) at ${join(projectRoot(), ".venv")}, or set TRTFORGE_PYTHON to a Python within ${entry.accepted}`,
  });
  return [
    { component: "python", ...interpreterResult },
    ...PYTHON_PACKAGES.map((name) => packageResult(report, name, interpreter, toolchain)),
  ];
}

function packageResult(report: VersionsReport, name: PythonPackage, interpreter: string, toolchain: Toolchain): PythonCheck {
  const version = report.packages[name];
  if (version === null) {
    return {
      component: name,
      status: "missing",
      expected: toolchain.get(name)?.accepted,
      detail: `${name} is not installed in ${interpreter}`,
      fix: installFix(toolchain, interpreter, name),
    };
  }
  const distribution = name === "onnxruntime" && report.onnxruntime_gpu ? " (onnxruntime-gpu distribution)" : "";
  const check = compareWithToolchain(toolchain, {
    component: name,
    found: version,
    context: `${interpreter}${distribution}`,
    fixWhenMismatched: () => installFix(toolchain, interpreter, name),
  });
  return { component: name, ...check };
}

function packagesNotChecked(toolchain: Toolchain, interpreter: string, status: "missing" | "error", detail: string): PythonCheck[] {
  return PYTHON_PACKAGES.map((name) => ({
    component: name,
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
