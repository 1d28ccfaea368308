import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HOST_MODES, assertModeReady, checkHost, evaluateModes, formatHostReport, type HostMode, type ProbeResult } from "../src/index.js";
import {
  ADDON_NOT_BUILT,
  TOOLCHAIN_MD,
  exited,
  fakeExec,
  nvidiaSmi,
  pythonReport,
  readyHost,
  TWO_GPUS_CSV,
  PINNED_PACKAGES,
} from "./fake-host.js";
import { thrown } from "../../../tests/support/errors.js";

const tempDir = mkdtempSync(join(tmpdir(), "hostcheck-check-"));
const toolchainPath = join(tempDir, "toolchain_versions.md");
writeFileSync(toolchainPath, TOOLCHAIN_MD);
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe("checkHost with a faked host", () => {
  it("reports every mode ready on a host with everything at its pin", async () => {
    const report = await checkHost({ toolchainPath, deps: readyHost() });
    expect(report.toolchainPath).toBe(toolchainPath);
    expect(report.probes.map((p) => p.id)).toEqual([
      "node",
      "python",
      "torch",
      "transformers",
      "onnx",
      "onnxruntime",
      "onnxscript",
      "onnxruntime-node",
      "ort-cuda-provider",
      "native-addon",
      "gpu",
      "cuda-driver",
    ]);
    expect(report.probes.filter((p) => p.status !== "ok")).toEqual([]);
    expect(report.gpus).toHaveLength(2);
    for (const mode of HOST_MODES) expect(report.modes[mode], mode).toEqual({ ready: true, blocking: [] });
    for (const mode of HOST_MODES) expect(() => assertModeReady(report, mode)).not.toThrow();
  });

  it("blocks only the modes that need what is missing", async () => {
    const report = await checkHost({
      toolchainPath,
      deps: readyHost({
        loadAddon: () => ADDON_NOT_BUILT,
        exec: fakeExec({ "/venv/bin/python": () => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, torch: "2.12.1" })) }).exec,
      }),
    });
    expect(report.modes.marker).toEqual({ ready: true, blocking: [] });
    expect(report.modes.calibrate).toEqual({ ready: true, blocking: [] });
    expect(report.modes.export).toEqual({ ready: false, blocking: ["torch"] });
    expect(report.modes.build).toEqual({ ready: false, blocking: ["native-addon", "gpu", "cuda-driver"] });
    expect(report.gpus).toEqual([]);
  });

  it("turns a probe that throws into that probe's error without losing the others", async () => {
    const report = await checkHost({
      toolchainPath,
      deps: readyHost({
        resolveOnnxruntimeNode: () => {
          throw new Error("package.json is not JSON");
        },
      }),
    });
    const ortNode = report.probes.find((p) => p.id === "onnxruntime-node")!;
    expect(ortNode.status).toBe("error");
    expect(ortNode.detail).toContain("package.json is not JSON");
    expect(report.modes.calibrate).toEqual({ ready: false, blocking: ["onnxruntime-node"] });
    expect(report.modes.build.ready).toBe(true);
  });

  it("throws TOOLCHAIN_UNREADABLE for a missing toolchain file", async () => {
    await expect(checkHost({ toolchainPath: join(tempDir, "missing.md"), deps: readyHost() })).rejects.toMatchObject({
      code: "TOOLCHAIN_UNREADABLE",
    });
  });
});

describe("evaluateModes", () => {
  const ok = (id: ProbeResult["id"]): ProbeResult => ({ id, label: id, status: "ok", detail: "" });

  it("counts a required probe that is absent from the list as blocking", () => {
    const modes = evaluateModes([ok("node"), ok("onnxruntime-node")]);
    expect(modes.marker.ready).toBe(true);
    expect(modes.calibrate.ready).toBe(true);
    expect(modes.build.blocking).toEqual(["native-addon", "gpu", "cuda-driver"]);
  });

  it("blocks every mode when Node itself mismatches", () => {
    const modes = evaluateModes([{ ...ok("node"), status: "mismatch" }, ok("onnxruntime-node")]);
    for (const mode of HOST_MODES) expect(modes[mode].blocking[0], mode).toBe("node");
  });
});

describe("assertModeReady", () => {
  async function hostWithoutGpuOrPython() {
    return checkHost({
      toolchainPath,
      deps: readyHost({ loadAddon: () => ADDON_NOT_BUILT, exec: fakeExec({}).exec, env: { TRTFORGE_PYTHON: "/nowhere/python" } }),
    });
  }

  it("lists each missing item for build in the message and one fix line per item", async () => {
    const report = await hostWithoutGpuOrPython();
    const err = thrown(() => assertModeReady(report, "build"));
    expect(err.code).toBe("HOST_MODE_UNAVAILABLE");
    expect(err.exitCode).toBe(50);
    const itemLines = err.message.split("\n").slice(1);
    expect(itemLines).toHaveLength(3);
    expect(itemLines[0]).toContain("TensorRT addon (native-addon): missing");
    expect(itemLines[0]).toContain(ADDON_NOT_BUILT.message);
    expect(itemLines[1]).toContain("no NVIDIA driver on this host");
    const fixLines = err.fix!.split("\n");
    expect(fixLines).toHaveLength(3);
    expect(fixLines[0]).toBe(`TensorRT addon: ${ADDON_NOT_BUILT.fix}`);
    expect(fixLines[1]).toContain("install the NVIDIA driver");
    expect(err.details).toEqual({ mode: "build", blocking: ["native-addon", "gpu", "cuda-driver"] });
  });

  it("names the interpreter and every package for export", async () => {
    const report = await hostWithoutGpuOrPython();
    const err = thrown(() => assertModeReady(report, "export"));
    expect(err.message).toContain("--for export");
    expect(err.message).toContain("no Python interpreter at /nowhere/python");
    const fixLines = err.fix!.split("\n");
    expect(fixLines).toHaveLength(6);
    expect(fixLines[0]).toContain("create the pinned Python environment");
    expect(fixLines[1]).toBe("torch: /nowhere/python -m pip install torch==2.13.0");
  });

  it("passes for a mode whose requirements are met", async () => {
    const report = await hostWithoutGpuOrPython();
    expect(() => assertModeReady(report, "marker")).not.toThrow();
    expect(() => assertModeReady(report, "calibrate")).not.toThrow();
  });
});

describe("formatHostReport", () => {
  it("shows mode readiness first, then each probe with status, found, expected and fix", async () => {
    const report = await checkHost({
      toolchainPath,
      deps: readyHost({
        loadAddon: () => ADDON_NOT_BUILT,
        exec: fakeExec({ "/venv/bin/python": () => exited(pythonReport("3.11.7", PINNED_PACKAGES)), "nvidia-smi": nvidiaSmi(TWO_GPUS_CSV) })
          .exec,
      }),
    });
    const text = formatHostReport(report);
    const lines = text.split("\n");
    const modeHeader = lines.findIndex((l) => l.startsWith("MODE"));
    const probeHeader = lines.findIndex((l) => l.startsWith("PROBE"));
    expect(modeHeader).toBeGreaterThan(0);
    expect(probeHeader).toBeGreaterThan(modeHeader);
    const modeLine = (mode: HostMode) => lines.slice(modeHeader, probeHeader).find((l) => l.startsWith(`${mode} `))!;
    expect(modeLine("marker")).toMatch(/^marker\s+yes\s+-$/);
    expect(modeLine("build")).toMatch(/^build\s+no\s+native-addon$/);
    expect(lines.find((l) => l.startsWith("torch "))).toMatch(/^torch\s+ok\s+2\.13\.0\s+2\.13\.0$/);
    expect(lines.find((l) => l.startsWith("native-addon "))).toMatch(/^native-addon\s+missing\s+-\s+-$/);
    expect(text).toContain(`    fix: ${ADDON_NOT_BUILT.fix}`);
    expect(text).toMatch(/1\s+NVIDIA H100 80GB HBM3\s+compute 9\.0\s+driver 575\.57\.08\s+81559 MiB/);
  });
});
