import { join } from "node:path";
import { projectRoot } from "@trtforge/core";
import { describe, expect, it } from "vitest";
import {
  GPU_QUERY_ARGS,
  parseDriverCudaVersion,
  parseGpuList,
  probeNativeAddon,
  probeNode,
  probeNvidia,
  probeOnnxruntimeNode,
  probePython,
  type ProbeResult,
} from "../src/index.js";
import { PYTHON_PACKAGES } from "@trtforge/toolchain";
import {
  ADDON_NOT_BUILT,
  NVIDIA_SMI_SUMMARY,
  PINNED_PACKAGES,
  TWO_GPUS_CSV,
  addonLoaded,
  exited,
  fakeExec,
  nvidiaSmi,
  pythonReport,
  testToolchain,
} from "./fake-host.js";

const toolchain = testToolchain();

function byId(results: ProbeResult[], id: string): ProbeResult {
  const result = results.find((r) => r.id === id);
  if (!result) throw new Error(`no ${id} result`);
  return result;
}

describe("node probe", () => {
  it("accepts a Node within the range and reports the range", () => {
    expect(probeNode({ nodeVersion: "v22.12.0" }, toolchain)).toMatchObject({
      id: "node",
      status: "ok",
      found: "22.12.0",
      expected: "^20.19.0 || ^22.12.0 || >=24.0.0",
    });
  });

  it("reports Node 18 and 21 as mismatches with a fix naming the pin", () => {
    for (const nodeVersion of ["v18.20.4", "v21.7.3", "v20.18.0"]) {
      const result = probeNode({ nodeVersion }, toolchain);
      expect(result.status, nodeVersion).toBe("mismatch");
      expect(result.fix).toContain("20.20.2");
    }
  });
});

describe("python probe", () => {
  const interpreter = "/opt/py/bin/python";

  async function probeWith(answer: Parameters<typeof fakeExec>[0][string]) {
    const fake = fakeExec({ [interpreter]: answer });
    const results = await probePython({ exec: fake.exec, env: { TRTFORGE_PYTHON: interpreter } }, toolchain);
    return { results, calls: fake.calls };
  }

  it("runs $TRTFORGE_PYTHON with a 60 s timeout, reading versions without importing torch", async () => {
    const { results, calls } = await probeWith(() => exited(pythonReport("3.11.7", PINNED_PACKAGES)));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe(interpreter);
    expect(calls[0]!.timeoutMs).toBe(60_000);
    const script = calls[0]!.args.at(-1)!;
    expect(script).toContain("importlib");
    expect(script).not.toMatch(/import torch/);
    expect(results.map((r) => r.id)).toEqual(["python", ...PYTHON_PACKAGES]);
    expect(results.every((r) => r.status === "ok")).toBe(true);
    expect(byId(results, "python")).toMatchObject({ found: "3.11.7", expected: "~3.11.0" });
  });

  it("defaults to the project's .venv interpreter", async () => {
    const fake = fakeExec({});
    await probePython({ exec: fake.exec, env: {} }, toolchain);
    expect(fake.calls[0]!.file).toBe(join(projectRoot(), ".venv", "bin", "python"));
  });

  it("reports a missing interpreter as missing, with the environment fix, and every package as not checked", async () => {
    const fake = fakeExec({});
    const results = await probePython({ exec: fake.exec, env: { TRTFORGE_PYTHON: interpreter } }, toolchain);
    const python = byId(results, "python");
    expect(python.status).toBe("missing");
    expect(python.detail).toContain(interpreter);
    expect(python.fix).toBe(`create the pinned Python environment at ${join(projectRoot(), ".venv")} (or set TRTFORGE_PYTHON)`);
    for (const name of PYTHON_PACKAGES) {
      expect(byId(results, name).status).toBe("missing");
      expect(byId(results, name).detail).toContain("not checked");
    }
  });

  it("reports torch 2.12.1 as a mismatch with a pip fix for the pin", async () => {
    const { results } = await probeWith(() => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, torch: "2.12.1" })));
    const torch = byId(results, "torch");
    expect(torch).toMatchObject({ status: "mismatch", found: "2.12.1", expected: "2.13.0" });
    expect(torch.fix).toBe(`${interpreter} -m pip install torch==2.13.0`);
    expect(byId(results, "transformers").status).toBe("ok");
  });

  it("accepts 2.13.0+cpu and 2.13.0+cu128 as 2.13.0 and says which build it is", async () => {
    const cpu = byId((await probeWith(() => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, torch: "2.13.0+cpu" })))).results, "torch");
    expect(cpu).toMatchObject({ status: "ok", found: "2.13.0+cpu" });
    expect(cpu.detail).toContain("CPU build");
    const cuda = byId(
      (await probeWith(() => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, torch: "2.13.0+cu128" })))).results,
      "torch",
    );
    expect(cuda.status).toBe("ok");
    expect(cuda.detail).toContain("CUDA 12.8 build");
  });

  it("rejects a torch release candidate of the pinned version", async () => {
    const { results } = await probeWith(() => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, torch: "2.13.0rc1" })));
    expect(byId(results, "torch").status).toBe("mismatch");
  });

  it("reports packages that are not installed as missing, and a wrong interpreter as a mismatch", async () => {
    const { results } = await probeWith(() => exited(pythonReport("3.12.4", { torch: "2.13.0" })));
    expect(byId(results, "python")).toMatchObject({ status: "mismatch", found: "3.12.4" });
    expect(byId(results, "python").fix).toContain("3.11.7");
    expect(byId(results, "torch").status).toBe("ok");
    expect(byId(results, "onnxscript")).toMatchObject({ status: "missing", fix: `${interpreter} -m pip install onnxscript==0.7.2` });
  });

  it("counts onnxruntime-gpu as onnxruntime and says so", async () => {
    const { results } = await probeWith(() => exited(pythonReport("3.11.7", { ...PINNED_PACKAGES, onnxruntime: "1.30.0" }, true)));
    expect(byId(results, "onnxruntime").detail).toContain("onnxruntime-gpu");
  });

  it("reads the report from the last line when something printed before it", async () => {
    const { results } = await probeWith(() => exited(`a sitecustomize says hello\n${pythonReport("3.11.7", PINNED_PACKAGES)}\n`));
    expect(byId(results, "python").status).toBe("ok");
  });

  it("reports a crashing script as an error carrying stderr", async () => {
    const stderr = "Traceback (most recent call last):\n  File \"<string>\", line 2\nImportError: cannot import name 'metadata'";
    const { results } = await probeWith(() => exited("", 1, stderr));
    const python = byId(results, "python");
    expect(python.status).toBe("error");
    expect(python.detail).toContain("exited with code 1");
    expect(python.detail).toContain("ImportError: cannot import name 'metadata'");
    expect(byId(results, "torch").status).toBe("error");
  });

  it("reports a timeout and unreadable output as errors", async () => {
    const timedOut = await probeWith(() => ({ exitCode: null, stdout: "", stderr: "", timedOut: true }));
    expect(byId(timedOut.results, "python")).toMatchObject({ status: "error" });
    expect(byId(timedOut.results, "python").detail).toContain("60 s");
    const garbled = await probeWith(() => exited('{"python": 3}'));
    expect(byId(garbled.results, "python").status).toBe("error");
  });
});

describe("onnxruntime-node probe", () => {
  it("reports a missing package with the pnpm fix", () => {
    expect(probeOnnxruntimeNode({ resolveOnnxruntimeNode: () => undefined }, toolchain)).toMatchObject({
      id: "onnxruntime-node",
      status: "missing",
      fix: "pnpm install at the repository root",
    });
  });

  it("compares the installed version with its row", () => {
    expect(probeOnnxruntimeNode({ resolveOnnxruntimeNode: () => "1.30.0" }, toolchain).status).toBe("ok");
    expect(probeOnnxruntimeNode({ resolveOnnxruntimeNode: () => "1.22.0" }, toolchain)).toMatchObject({
      status: "mismatch",
      expected: "1.30.0",
    });
  });
});

describe("native addon probe", () => {
  it("reports an addon that is not built as missing with the loader's message and fix", () => {
    const result = probeNativeAddon({ loadAddon: () => ADDON_NOT_BUILT }, toolchain);
    expect(result).toMatchObject({ id: "native-addon", status: "missing", fix: ADDON_NOT_BUILT.fix });
    expect(result.detail).toContain(ADDON_NOT_BUILT.message);
  });

  it("compares the loaded TensorRT with the row of its major", () => {
    expect(probeNativeAddon({ loadAddon: () => addonLoaded(10, "10.16.0.72") }, toolchain)).toMatchObject({
      status: "ok",
      found: "10.16.0.72",
      expected: "^10.0.0",
    });
    expect(probeNativeAddon({ loadAddon: () => addonLoaded(11, "11.1.0.5") }, toolchain)).toMatchObject({
      status: "ok",
      expected: "^11.0.0",
    });
  });

  it("reports a major without a toolchain row as an error", () => {
    expect(probeNativeAddon({ loadAddon: () => addonLoaded(12, "12.0.0.1") }, toolchain)).toMatchObject({
      status: "error",
      fix: "add a `tensorrt-12` row to toolchain_versions.md",
    });
  });
});

describe("nvidia-smi parsing", () => {
  it("parses two GPUs of different compute capabilities", () => {
    expect(parseGpuList(TWO_GPUS_CSV)).toEqual([
      { index: 0, name: "NVIDIA GeForce RTX 3090", computeCapability: "8.6", driverVersion: "575.57.08", memoryMiB: 24576 },
      { index: 1, name: "NVIDIA H100 80GB HBM3", computeCapability: "9.0", driverVersion: "575.57.08", memoryMiB: 81559 },
    ]);
  });

  it("keeps a comma inside a name and reads [N/A] memory as null", () => {
    expect(parseGpuList("0, Odd, Name, 7.5, 550.1, [N/A]\n")).toEqual([
      { index: 0, name: "Odd, Name", computeCapability: "7.5", driverVersion: "550.1", memoryMiB: null },
    ]);
  });

  it("reads the CUDA version of the summary", () => {
    expect(parseDriverCudaVersion(NVIDIA_SMI_SUMMARY)).toBe("12.9");
    expect(parseDriverCudaVersion("no such line")).toBeUndefined();
  });
});

describe("GPU and driver probes", () => {
  it("lists both GPUs and compares the driver's CUDA version with the cuda row", async () => {
    const fake = fakeExec({ "nvidia-smi": nvidiaSmi(TWO_GPUS_CSV) });
    const { gpus, probes } = await probeNvidia({ exec: fake.exec }, toolchain);
    expect(fake.calls.map((c) => c.args)).toEqual([[...GPU_QUERY_ARGS], []]);
    expect(gpus.map((g) => g.computeCapability)).toEqual(["8.6", "9.0"]);
    expect(byId(probes, "gpu")).toMatchObject({ status: "ok", found: "2 GPUs, driver 575.57.08" });
    expect(byId(probes, "gpu").detail).toContain("NVIDIA H100 80GB HBM3");
    expect(byId(probes, "cuda-driver")).toMatchObject({ status: "ok", found: "12.9", expected: ">=12.0.0" });
  });

  it("reports a driver that supports only CUDA 11.8 as a mismatch", async () => {
    const fake = fakeExec({ "nvidia-smi": nvidiaSmi(TWO_GPUS_CSV, NVIDIA_SMI_SUMMARY.replace("12.9", "11.8")) });
    const { probes } = await probeNvidia({ exec: fake.exec }, toolchain);
    expect(byId(probes, "gpu").status).toBe("ok");
    expect(byId(probes, "cuda-driver")).toMatchObject({ status: "mismatch", found: "11.8" });
  });

  it("reports an absent nvidia-smi as no NVIDIA driver", async () => {
    const { gpus, probes } = await probeNvidia({ exec: fakeExec({}).exec }, toolchain);
    expect(gpus).toEqual([]);
    for (const id of ["gpu", "cuda-driver"]) {
      expect(byId(probes, id).status).toBe("missing");
      expect(byId(probes, id).detail).toContain("no NVIDIA driver on this host");
    }
  });

  it("reports zero GPUs as missing", async () => {
    const { probes } = await probeNvidia({ exec: fakeExec({ "nvidia-smi": nvidiaSmi("") }).exec }, toolchain);
    expect(byId(probes, "gpu")).toMatchObject({ status: "missing", found: "0 GPUs" });
  });

  it("reports a driver that nvidia-smi cannot talk to as an error with its output", async () => {
    const message = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
    const { probes } = await probeNvidia({ exec: fakeExec({ "nvidia-smi": () => exited(message, 9) }).exec }, toolchain);
    expect(byId(probes, "gpu").status).toBe("error");
    expect(byId(probes, "gpu").detail).toContain(message);
    expect(byId(probes, "cuda-driver").status).toBe("error");
  });
});
