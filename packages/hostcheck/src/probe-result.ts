import type { PythonPackage } from "@trtforge/toolchain";

export type ProbeStatus = "ok" | "missing" | "mismatch" | "error";

export type ProbeId = "node" | "python" | PythonPackage | "onnxruntime-node" | "ort-cuda-provider" | "native-addon" | "gpu" | "cuda-driver";

/**
 * What one probe found. `missing`: the thing is not on this host; `mismatch`: it is there but
 * outside the accepted range; `error`: the probe could not tell (a crash, a timeout, bad output).
 */
export interface ProbeResult {
  id: ProbeId;
  label: string;
  status: ProbeStatus;
  /** The version (or count) found, as the host reported it. */
  found?: string;
  /** The accepted range from toolchain_versions.md. */
  expected?: string;
  detail: string;
  fix?: string;
}
