import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadAddon } from "@trtforge/native";
import { describe, expect, it } from "vitest";
import { execCommand, resolveOnnxruntimeNodeVersion } from "@trtforge/toolchain";
import { checkHost } from "../src/index.js";

/** What the interpreter says about itself, or undefined when it cannot be run. */
function selfReportedVersion(python: string): string | undefined {
  try {
    return execFileSync(python, ["-c", "import platform;print(platform.python_version())"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

const pathPythonVersion = selfReportedVersion("python3");
const addonBuilt = loadAddon().available;

describe("the real host", () => {
  it("is ready for marker builds", async () => {
    const report = await checkHost();
    expect(report.probes.find((p) => p.id === "node")).toMatchObject({ status: "ok", found: process.version.slice(1) });
    expect(report.modes.marker).toEqual({ ready: true, blocking: [] });
  });

  // The project's machines have no TensorRT and no GPU; on a host with both this says nothing.
  it.skipIf(addonBuilt)("is not ready for build: the addon is missing", async () => {
    const report = await checkHost();
    expect(report.probes.find((p) => p.id === "native-addon")?.status).toBe("missing");
    expect(report.modes.build.ready).toBe(false);
    expect(report.modes.build.blocking).toContain("native-addon");
    const gpu = report.probes.find((p) => p.id === "gpu")!;
    expect(gpu.status === "ok").toBe(report.gpus.length > 0);
  });

  it("reports onnxruntime-node as missing exactly when it does not resolve", async () => {
    const installed = resolveOnnxruntimeNodeVersion();
    const report = await checkHost();
    const probe = report.probes.find((p) => p.id === "onnxruntime-node")!;
    if (installed === undefined) expect(probe).toMatchObject({ status: "missing", fix: "pnpm install at the repository root" });
    else expect(probe.found).toBe(installed);
  });

  it.skipIf(pathPythonVersion === undefined)("runs the python3 on PATH and reports its true version", async () => {
    const report = await checkHost({ deps: { env: { ...process.env, TRTFORGE_PYTHON: "python3" } } });
    const python = report.probes.find((p) => p.id === "python")!;
    expect(python.found).toBe(pathPythonVersion);
    expect(python.status === "ok" || python.status === "mismatch").toBe(true);
    for (const id of ["torch", "transformers", "onnx", "onnxruntime", "onnxscript"]) {
      expect(report.probes.find((p) => p.id === id)?.status, id).not.toBe("error");
    }
  });

  it.skipIf(!existsSync("/usr/bin/python3"))("runs TRTFORGE_PYTHON=/usr/bin/python3 and reports its true version", async () => {
    const report = await checkHost({ deps: { env: { TRTFORGE_PYTHON: "/usr/bin/python3" } } });
    expect(report.probes.find((p) => p.id === "python")?.found).toBe(selfReportedVersion("/usr/bin/python3"));
  });
});

describe("execCommand", () => {
  it("returns a missing binary as not found instead of throwing", async () => {
    expect(await execCommand("trtforge-no-such-binary", [], { timeoutMs: 5_000 })).toMatchObject({ notFound: true, exitCode: null });
  });

  it("returns exit code, stdout and stderr of a failing command", async () => {
    expect(await execCommand("sh", ["-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 5_000 })).toEqual({
      exitCode: 3,
      stdout: "out",
      stderr: "err",
    });
  });

  it("stops a command at its timeout", async () => {
    const started = Date.now();
    const result = await execCommand("sleep", ["10"], { timeoutMs: 300 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("returns a path that cannot be executed as a failure, not as not found", async () => {
    const result = await execCommand("/", [], { timeoutMs: 5_000 });
    expect(result.notFound).toBeUndefined();
    expect(result.exitCode).toBeNull();
    expect(result.stderr).toContain("EACCES");
  });
});
