import type { AddonStatus } from "@trtforge/native";
import { parseToolchain, type ExecResult, type Toolchain } from "@trtforge/toolchain";
import type { HostDeps } from "../src/index.js";
import { createFakeAddon } from "@trtforge/native/fake";
import { TOOLCHAIN_MD } from "../../../tests/support/toolchain-fixture.js";

export { TOOLCHAIN_MD };

export function testToolchain(): Toolchain {
  return parseToolchain(TOOLCHAIN_MD, "fixture.md");
}

export const NOT_FOUND: ExecResult = { exitCode: null, stdout: "", stderr: "", notFound: true };

export function exited(stdout: string, exitCode = 0, stderr = ""): ExecResult {
  return { exitCode, stdout, stderr };
}

export interface ExecCall {
  file: string;
  args: readonly string[];
  timeoutMs: number;
}

/** An exec that answers by program name and records every call; unknown programs are not found. */
export function fakeExec(answers: Record<string, (args: readonly string[]) => ExecResult>): { exec: HostDeps["exec"]; calls: ExecCall[] } {
  const calls: ExecCall[] = [];
  const exec: HostDeps["exec"] = async (file, args, { timeoutMs }) => {
    calls.push({ file, args, timeoutMs });
    const answer = answers[file];
    return answer === undefined ? NOT_FOUND : answer(args);
  };
  return { exec, calls };
}

export function pythonReport(python: string, packages: Partial<Record<string, string | null>> = {}, onnxruntimeGpu = false): string {
  const all = { torch: null, transformers: null, onnx: null, onnxruntime: null, onnxscript: null, ...packages };
  return JSON.stringify({ python, packages: all, onnxruntime_gpu: onnxruntimeGpu });
}

export const PINNED_PACKAGES = { torch: "2.13.0", transformers: "5.23.0", onnx: "1.23.2", onnxruntime: "1.30.0", onnxscript: "0.7.2" };

export const ADDON_NOT_BUILT = {
  available: false,
  reason: "not-built" as const,
  message: "the TensorRT addon is not built: no trtforge_trt11.node or trtforge_trt10.node in /x/build/Release",
  fix: "on a host with TensorRT 10 or 11, run the native build",
} satisfies AddonStatus;

export function addonLoaded(trtMajor: number, trtVersion: string): AddonStatus {
  return {
    available: true,
    trtMajor,
    path: `/x/build/Release/trtforge_trt${trtMajor}.node`,
    binding: createFakeAddon({ trtMajor: trtMajor as 10 | 11, trtVersion }),
  };
}

export const TWO_GPUS_CSV = ["0, NVIDIA GeForce RTX 3090, 8.6, 575.57.08, 24576", "1, NVIDIA H100 80GB HBM3, 9.0, 575.57.08, 81559"].join(
  "\n",
);

export const NVIDIA_SMI_SUMMARY = `Sat Nov 28 16:40:00 2026
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 575.57.08              Driver Version: 575.57.08      CUDA Version: 12.9     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
`;

/** nvidia-smi answering like a driver with the given GPU list and CUDA version line. */
export function nvidiaSmi(csv: string, summary = NVIDIA_SMI_SUMMARY): (args: readonly string[]) => ExecResult {
  return (args) => exited(args.length === 0 ? summary : csv);
}

/** A host with everything at its pin, for tests that change one thing. */
export function readyHost(overrides: Partial<HostDeps> = {}): Partial<HostDeps> {
  const { exec } = fakeExec({
    "/venv/bin/python": () => exited(pythonReport("3.11.7", PINNED_PACKAGES)),
    "nvidia-smi": nvidiaSmi(TWO_GPUS_CSV),
  });
  return {
    exec,
    env: { TRTFORGE_PYTHON: "/venv/bin/python" },
    nodeVersion: "v20.20.2",
    loadAddon: () => addonLoaded(10, "10.16.0.72"),
    resolveOnnxruntimeNode: () => "1.30.0",
    loadOrtCudaProvider: () => ({ ok: true, dir: "/fake/onnxruntime-node/bin/napi-v6/linux/x64" }),
    ...overrides,
  };
}
