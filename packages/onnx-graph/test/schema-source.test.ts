import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { locateOnnxSchema, onnxSchema } from "../src/index.js";
import { python } from "./helpers/python.js";
import { thrown } from "../../../tests/support/errors.js";

const REPO_ROOT = join(import.meta.dirname, "../../..");
const tempDir = mkdtempSync(join(tmpdir(), "trtforge-schema-"));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** The onnx pin of the Python lock file, which setup-python.sh installs. */
function lockedOnnxVersion(): string {
  const lock = readFileSync(join(REPO_ROOT, "python/requirements.lock"), "utf8");
  const pin = /^onnx==([^\s;#]+)/m.exec(lock)?.[1];
  if (pin === undefined) throw new Error("python/requirements.lock pins no onnx");
  return pin;
}

describe("the ONNX schema", () => {
  it("comes from the onnx package pinned in python/requirements.lock", () => {
    const { source, irVersion } = onnxSchema();
    expect(source.onnxVersion).toBe(lockedOnnxVersion());
    // The file the installed package itself ships, and the IR version that package declares.
    const installed = JSON.parse(
      execFileSync(
        python(),
        ["-c", "import json, os, onnx; print(json.dumps({'dir': os.path.dirname(onnx.__file__), 'ir': onnx.IR_VERSION}))"],
        { encoding: "utf8" },
      ),
    ) as { dir: string; ir: number };
    expect(dirname(source.path)).toBe(installed.dir);
    expect(irVersion).toBe(installed.ir);
  });

  it("names the fix when the Python environment is missing", () => {
    const missing = join(tempDir, "no-such-python");
    const err = thrown(() => locateOnnxSchema({ TRTFORGE_PYTHON: missing }));
    expect(err.code).toBe("PYTHON_UNAVAILABLE");
    expect(err.message).toContain(`no Python interpreter at ${missing}`);
    expect(err.input).toBe(missing);
    expect(err.fix).toContain("scripts/setup-python.sh");
  });

  it("names the pinned onnx when the environment lacks the onnx package", () => {
    // The real interpreter without site-packages: a Python that runs but has no onnx.
    const bare = join(tempDir, "python-without-site");
    writeFileSync(bare, `#!/bin/sh\nexec ${JSON.stringify(python())} -S "$@"\n`);
    chmodSync(bare, 0o755);
    const err = thrown(() => locateOnnxSchema({ TRTFORGE_PYTHON: bare }));
    expect(err.code).toBe("PYTHON_UNAVAILABLE");
    expect(err.message).toContain(`the onnx package is not installed in ${bare}`);
    expect(err.fix).toContain(`${bare} -m pip install onnx==${lockedOnnxVersion()}`);
  });
});
