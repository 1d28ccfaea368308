import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ForgeError } from "@trtforge/core";
import { pythonInterpreterPath, readToolchain } from "@trtforge/toolchain";
import { z } from "zod";

/** Where the ONNX schema was read from: the onnx package of the project's Python environment. */
export interface OnnxSchemaSource {
  /** `onnx/onnx.proto` inside the installed onnx package. */
  path: string;
  /** The installed onnx distribution's version (importlib.metadata). */
  onnxVersion: string;
  /** The interpreter that was asked. */
  python: string;
}

const LOCATE_TIMEOUT_MS = 30_000;

/*
 * find_spec and importlib.metadata locate the package without importing it: `import onnx` loads
 * numpy and the C++ extension, several times the cost of the interpreter start.
 */
const LOCATE_SCRIPT = `
import importlib.util, json, os
from importlib import metadata
spec = importlib.util.find_spec("onnx")
folders = list(spec.submodule_search_locations or []) if spec is not None else []
try:
    version = metadata.version("onnx")
except metadata.PackageNotFoundError:
    version = None
print(json.dumps({"proto": os.path.join(folders[0], "onnx.proto") if folders else None, "version": version}))
`;

const LocateReport = z.object({ proto: z.string().nullable(), version: z.string().nullable() });

const SETUP_FIX =
  "run bash scripts/setup-python.sh (or `build-engine setup`) to create the pinned environment, or set TRTFORGE_PYTHON to a Python with the onnx of python/requirements.lock";

/**
 * Asks the project's Python environment ($TRTFORGE_PYTHON, else <repo>/.venv/bin/python) where
 * its onnx package keeps onnx.proto. The schema is not kept in this repository: it is the pinned
 * onnx's own file, so it is exactly the schema the exporter writes with.
 */
export function locateOnnxSchema(env: NodeJS.ProcessEnv = process.env): OnnxSchemaSource {
  const python = pythonInterpreterPath(env);
  let stdout: string;
  try {
    stdout = execFileSync(python, ["-c", LOCATE_SCRIPT], {
      encoding: "utf8",
      env,
      timeout: LOCATE_TIMEOUT_MS,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; status?: number | null };
    const why =
      e.code === "ENOENT"
        ? `no Python interpreter at ${python}`
        : e.code === "ETIMEDOUT"
          ? `${python} did not answer within ${LOCATE_TIMEOUT_MS / 1000} s`
          : `${python} failed (${e.status === null || e.status === undefined ? (e.code ?? "no exit status") : `exit ${e.status}`}): ${(e.stderr ?? "").trim().split("\n").slice(-5).join("\n") || e.message}`;
    throw unavailable(python, `cannot read the ONNX schema from the Python environment: ${why}`, SETUP_FIX);
  }
  const lastLine = stdout.trim().split(/\r?\n/).at(-1) ?? "";
  let report: z.infer<typeof LocateReport>;
  try {
    report = LocateReport.parse(JSON.parse(lastLine));
  } catch {
    throw unavailable(python, `cannot read the ONNX schema: ${python} printed no schema location (${lastLine || "no output"})`, SETUP_FIX);
  }
  if (report.proto === null || report.version === null) {
    throw unavailable(
      python,
      `cannot read the ONNX schema: the onnx package is not installed in ${python}`,
      `${python} -m pip install onnx==${pinnedOnnx()}, or ${SETUP_FIX}`,
    );
  }
  if (!existsSync(report.proto)) {
    throw unavailable(
      python,
      `cannot read the ONNX schema: onnx ${report.version} in ${python} has no ${report.proto}`,
      `${python} -m pip install --force-reinstall onnx==${pinnedOnnx()}`,
    );
  }
  return { path: report.proto, onnxVersion: report.version, python };
}

/** A schema file that is there but cannot be used: the onnx install is damaged. */
export function unusableSchema(source: OnnxSchemaSource, what: string, cause?: unknown): ForgeError {
  return new ForgeError("PYTHON_UNAVAILABLE", `the ONNX schema ${source.path} (onnx ${source.onnxVersion} in ${source.python}) ${what}`, {
    input: source.path,
    fix: `${source.python} -m pip install --force-reinstall onnx==${pinnedOnnx()}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** For the fix only: an unreadable toolchain file must not hide the error being reported. */
function pinnedOnnx(): string {
  try {
    return readToolchain().get("onnx")?.pinned ?? "<the version in python/requirements.lock>";
  } catch {
    return "<the version in python/requirements.lock>";
  }
}

function unavailable(python: string, message: string, fix: string): ForgeError {
  return new ForgeError("PYTHON_UNAVAILABLE", message, { input: python, fix });
}
