import { compareWithToolchain } from "../compare-with-toolchain.js";
import type { ExecResult } from "@trtforge/toolchain";
import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";
import type { Toolchain } from "@trtforge/toolchain";

export interface GpuInfo {
  index: number;
  name: string;
  /** As nvidia-smi prints it, e.g. "8.6". */
  computeCapability: string;
  driverVersion: string;
  /** null when nvidia-smi reports "[N/A]". */
  memoryMiB: number | null;
}

export interface NvidiaProbe {
  gpus: GpuInfo[];
  /** The GPU probe, then the driver's CUDA version probe. */
  probes: [ProbeResult, ProbeResult];
}

const NVIDIA_SMI = "nvidia-smi";
const NVIDIA_SMI_TIMEOUT_MS = 15_000;
export const GPU_QUERY_ARGS = ["--query-gpu=index,name,compute_cap,driver_version,memory.total", "--format=csv,noheader,nounits"] as const;

const GPU_ID = "gpu";
const GPU_LABEL = "NVIDIA GPU and driver";
const CUDA_ID = "cuda-driver";
const CUDA_LABEL = "CUDA version of the driver";
const INSTALL_DRIVER = "install the NVIDIA driver on a host with an NVIDIA GPU (build needs a GPU; marker builds do not)";

/**
 * Parses `nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total
 * --format=csv,noheader,nounits`. The name sits between fixed fields, so a comma inside it is kept.
 */
export function parseGpuList(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < 5) throw new Error(`unexpected nvidia-smi line (expected 5 fields): ${line}`);
    const index = Number(fields[0]);
    const [computeCapability, driverVersion, memory] = fields.slice(-3) as [string, string, string];
    if (!Number.isInteger(index)) throw new Error(`unexpected GPU index in nvidia-smi line: ${line}`);
    const memoryMiB = Number(memory);
    gpus.push({
      index,
      name: fields.slice(1, -3).join(", "),
      computeCapability,
      driverVersion,
      memoryMiB: memory === "" || !Number.isFinite(memoryMiB) ? null : memoryMiB,
    });
  }
  return gpus;
}

/** The "CUDA Version: 12.8" of plain `nvidia-smi`: the newest CUDA the driver supports. */
export function parseDriverCudaVersion(summary: string): string | undefined {
  return /CUDA Version\s*:\s*(\d+\.\d+(?:\.\d+)?)/.exec(summary)?.[1];
}

export async function probeNvidia(deps: Pick<HostDeps, "exec">, toolchain: Toolchain): Promise<NvidiaProbe> {
  const expectedCuda = toolchain.get("cuda")?.accepted;
  const query = await deps.exec(NVIDIA_SMI, GPU_QUERY_ARGS, { timeoutMs: NVIDIA_SMI_TIMEOUT_MS });
  if (query.notFound) {
    const detail = "no NVIDIA driver on this host (nvidia-smi is not on PATH)";
    return {
      gpus: [],
      probes: [
        { id: GPU_ID, label: GPU_LABEL, status: "missing", detail, fix: INSTALL_DRIVER },
        { id: CUDA_ID, label: CUDA_LABEL, status: "missing", expected: expectedCuda, detail, fix: INSTALL_DRIVER },
      ],
    };
  }
  const queryFailure = failureOf(query, GPU_QUERY_ARGS);
  if (queryFailure !== undefined) {
    return {
      gpus: [],
      probes: [
        driverError(GPU_ID, GPU_LABEL, queryFailure),
        driverError(CUDA_ID, CUDA_LABEL, `not checked: ${queryFailure}`, expectedCuda),
      ],
    };
  }
  let gpus: GpuInfo[];
  try {
    gpus = parseGpuList(query.stdout);
  } catch (err) {
    const detail = (err as Error).message;
    return {
      gpus: [],
      probes: [driverError(GPU_ID, GPU_LABEL, detail), driverError(CUDA_ID, CUDA_LABEL, `not checked: ${detail}`, expectedCuda)],
    };
  }
  return { gpus, probes: [gpuResult(gpus), await cudaResult(deps, toolchain)] };
}

function gpuResult(gpus: GpuInfo[]): ProbeResult {
  if (gpus.length === 0) {
    return {
      id: GPU_ID,
      label: GPU_LABEL,
      status: "missing",
      found: "0 GPUs",
      detail: "nvidia-smi runs but lists no GPU",
      fix: "check that the GPU is visible to this host or container (CUDA_VISIBLE_DEVICES, --gpus for Docker)",
    };
  }
  const list = gpus
    .map((g) => `${g.index}: ${g.name} (compute ${g.computeCapability}, ${g.memoryMiB === null ? "memory unknown" : `${g.memoryMiB} MiB`})`)
    .join("; ");
  const drivers = [...new Set(gpus.map((g) => g.driverVersion))].join(", ");
  return {
    id: GPU_ID,
    label: GPU_LABEL,
    status: "ok",
    found: `${gpus.length} GPU${gpus.length === 1 ? "" : "s"}, driver ${drivers}`,
    detail: list,
  };
}

async function cudaResult(deps: Pick<HostDeps, "exec">, toolchain: Toolchain): Promise<ProbeResult> {
  const expected = toolchain.get("cuda")?.accepted;
  const summary = await deps.exec(NVIDIA_SMI, [], { timeoutMs: NVIDIA_SMI_TIMEOUT_MS });
  const failure = summary.notFound ? "nvidia-smi disappeared between two runs" : failureOf(summary, []);
  if (failure !== undefined) return driverError(CUDA_ID, CUDA_LABEL, failure, expected);
  const cudaVersion = parseDriverCudaVersion(summary.stdout);
  if (cudaVersion === undefined) {
    return driverError(CUDA_ID, CUDA_LABEL, 'nvidia-smi printed no "CUDA Version" (a driver older than CUDA 10?)', expected);
  }
  return compareWithToolchain(toolchain, {
    id: CUDA_ID,
    label: CUDA_LABEL,
    component: "cuda",
    found: cudaVersion,
    context: "the driver supports CUDA up to",
    fixWhenMismatched: (entry) => `update the NVIDIA driver to one that supports CUDA ${entry.pinned} (accepted ${entry.accepted})`,
  });
}

function failureOf(run: ExecResult, args: readonly string[]): string | undefined {
  const command = [NVIDIA_SMI, ...args].join(" ");
  if (run.timedOut) return `${command} did not answer within ${NVIDIA_SMI_TIMEOUT_MS / 1000} s`;
  if (run.exitCode === 0) return undefined;
  const how = run.exitCode === null ? "did not exit normally" : `exited with code ${run.exitCode}`;
  // nvidia-smi prints its own failures ("couldn't communicate with the NVIDIA driver") on stdout.
  const output = [run.stderr.trim(), run.stdout.trim()].filter((s) => s !== "").join("\n");
  return `${command} ${how}: ${output || "(no output)"}`;
}

function driverError(id: "gpu" | "cuda-driver", label: string, detail: string, expected?: string): ProbeResult {
  return {
    id,
    label,
    status: "error",
    ...(expected === undefined ? {} : { expected }),
    detail,
    fix: "check the NVIDIA driver: nvidia-smi must run and list the GPUs (reinstall or update the driver if it does not)",
  };
}
