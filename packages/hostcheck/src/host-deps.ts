import type { AddonStatus } from "@trtforge/native";
import type { Exec } from "@trtforge/toolchain";

/** Every effect the probes have on the outside world, so that tests can fake any host. */
export interface HostDeps {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  /** As process.version reports it, e.g. "v20.20.2". */
  nodeVersion: string;
  loadAddon(): AddonStatus;
  /** The installed onnxruntime-node version, or undefined when it is not installed. */
  resolveOnnxruntimeNode(): string | undefined;
  /** Whether onnxruntime-node's CUDA provider loads here, and if not the reason code and why. */
  loadOrtCudaProvider(): { ok: true; dir: string } | { ok: false; reason: string; detail: string };
}
