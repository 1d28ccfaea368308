import { hostDeps } from "./default-host-deps.js";
import type { HostDeps } from "./host-deps.js";
import { evaluateModes, type ModeReport } from "./modes.js";
import type { ProbeId, ProbeResult } from "./probe-result.js";
import { probeNativeAddon } from "./probes/native-addon.js";
import { probeNode } from "./probes/node.js";
import { probeNvidia, type GpuInfo } from "./probes/nvidia.js";
import { probeOnnxruntimeNode } from "./probes/onnxruntime-node.js";
import { probeOrtCudaProvider } from "./probes/ort-cuda.js";
import { probePython } from "./probes/python.js";
import { PYTHON_PACKAGES, defaultToolchainPath, readToolchain } from "@trtforge/toolchain";

export interface HostReport {
  /** The toolchain_versions.md the host was compared with. */
  toolchainPath: string;
  probes: ProbeResult[];
  gpus: GpuInfo[];
  modes: ModeReport;
}

export interface CheckHostOptions {
  /** Replaces single effects of the real host (tests, or a caller that already loaded the addon). */
  deps?: Partial<HostDeps>;
  toolchainPath?: string;
}

/**
 * Runs every probe (concurrently) and derives each mode's readiness. An unreadable toolchain file
 * throws TOOLCHAIN_UNREADABLE; a probe that throws is reported as that probe's "error", so one
 * broken probe never hides what the others found.
 */
export async function checkHost(options: CheckHostOptions = {}): Promise<HostReport> {
  const toolchainPath = options.toolchainPath ?? defaultToolchainPath();
  const toolchain = readToolchain(toolchainPath);
  const deps = hostDeps(options.deps);

  const [node, python, onnxruntimeNode, ortCuda, addon, nvidia] = await Promise.all([
    guarded(() => [probeNode(deps, toolchain)], ["node"]),
    guarded(() => probePython(deps, toolchain), ["python", ...PYTHON_PACKAGES]),
    guarded(() => [probeOnnxruntimeNode(deps, toolchain)], ["onnxruntime-node"]),
    guarded(() => [probeOrtCudaProvider(deps)], ["ort-cuda-provider"]),
    guarded(() => [probeNativeAddon(deps, toolchain)], ["native-addon"]),
    probeNvidia(deps, toolchain).catch((err: unknown) => ({ gpus: [], probes: probeCrashed(["gpu", "cuda-driver"], err) })),
  ]);
  const probes = [...node, ...python, ...onnxruntimeNode, ...ortCuda, ...addon, ...nvidia.probes];
  return { toolchainPath, probes, gpus: nvidia.gpus, modes: evaluateModes(probes) };
}

async function guarded(probe: () => ProbeResult[] | Promise<ProbeResult[]>, ids: ProbeId[]): Promise<ProbeResult[]> {
  try {
    return await probe();
  } catch (err) {
    return probeCrashed(ids, err);
  }
}

function probeCrashed(ids: ProbeId[], err: unknown): ProbeResult[] {
  const message = err instanceof Error ? err.message : String(err);
  return ids.map((id) => ({
    id,
    label: id,
    status: "error",
    detail: `the probe failed: ${message}`,
    fix: "this is a bug in trtforge's host check; rerun with LOG_LEVEL=debug and report the output",
  }));
}
