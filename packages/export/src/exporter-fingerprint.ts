import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ForgeError, fsError, projectRoot, sha256Hex } from "@trtforge/core";

export interface ExporterSources {
  /** The Python exporter package (python/trtforge_export of the project). */
  pythonDir: string;
  /** This package's compiled code, which drives the exporter and validates its ONNX. */
  driverDir: string;
}

export function exporterSources(): ExporterSources {
  return {
    pythonDir: join(projectRoot(), "python", "trtforge_export"),
    driverDir: dirname(fileURLToPath(import.meta.url)),
  };
}

async function sourceFiles(root: string, code: RegExp): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw fsError(err, root, "reading the exporter's code");
  }
  return entries
    .filter((e) => e.isFile() && code.test(e.name) && !join(e.parentPath, e.name).includes("__pycache__"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * sha256 over the exporter's code (the Python package and the code driving and validating it), by
 * relative path and content: an export is redone exactly when this code changes, not at every
 * commit of the project, whose other changes cannot alter an ONNX.
 */
export async function exporterFingerprint(sources: ExporterSources = exporterSources()): Promise<string> {
  const parts: string[] = [];
  // The driver is dist/*.js when installed, src/*.ts when tests run the sources; declarations are not code.
  for (const [label, root, code] of [
    ["python", sources.pythonDir, /\.py$/],
    ["driver", sources.driverDir, /^(?!.*\.d\.ts$).*\.(js|ts)$/],
  ] as const) {
    const files = await sourceFiles(root, code);
    if (files.length === 0) {
      throw new ForgeError(
        "PYTHON_UNAVAILABLE",
        `no ${label === "python" ? "Python" : "JavaScript"} files under ${root}: the exporter's code is missing`,
        {
          input: root,
          fix: "reinstall trtforge (or set TRTFORGE_ROOT to the project folder holding python/trtforge_export)",
        },
      );
    }
    for (const file of files) parts.push(`${label}/${relative(root, file)}\0${sha256Hex(await readFile(file))}`);
  }
  return sha256Hex(parts.join("\n"));
}

let cached: Promise<string> | undefined;

/** exporterFingerprint() of this installation, computed once per process. */
export function installedExporterFingerprint(): Promise<string> {
  cached ??= exporterFingerprint();
  return cached;
}
