import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";

const ID = "ort-cuda-provider";
const LABEL = "ONNX Runtime CUDA provider";

const FIXES: Record<string, string> = {
  ORT_CUDA_PROVIDER_MISSING: "bash scripts/setup-ort-cuda.sh (the provider of the pinned onnxruntime-node, for this driver's CUDA)",
  CUDA_LIBRARIES_MISSING:
    "put the CUDA libraries the provider links (cudart, cuBLAS, cuBLASLt, cuRAND, cuFFT of its CUDA major) on LD_LIBRARY_PATH, e.g. the nvidia/cu13/lib folder of a CUDA 13 PyTorch install",
};

/**
 * Whether onnxruntime-node's CUDA provider loads in this process (serve-engine's GPU fallback when an
 * engine cannot load): its two libraries beside the binding, and every library they link. Whether a
 * GPU answers is the gpu probe's question.
 */
export function probeOrtCudaProvider(deps: Pick<HostDeps, "loadOrtCudaProvider">): ProbeResult {
  const load = deps.loadOrtCudaProvider();
  if (load.ok) return { id: ID, label: LABEL, status: "ok", found: load.dir, detail: `the CUDA provider libraries load from ${load.dir}` };
  return {
    id: ID,
    label: LABEL,
    status: load.reason === "ORT_CUDA_PROVIDER_MISSING" || load.reason === "CUDA_LIBRARIES_MISSING" ? "missing" : "error",
    detail: `${load.reason}: ${load.detail}`,
    fix: FIXES[load.reason] ?? "see the detail; docs/serving.md lists the reasons",
  };
}
