import type { AddonStatus } from "@trtforge/native";

export interface ExecOptions {
  timeoutMs: number;
}

/**
 * How a command ended. A missing binary is a finding (no driver, no Python), not a failure of the
 * check, so it comes back as `notFound` instead of being thrown.
 */
export interface ExecResult {
  /** null when the command did not exit on its own: not found, timed out, killed, not spawnable. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  notFound?: boolean;
  timedOut?: boolean;
}

/** Every effect the probes have on the outside world, so that tests can fake any host. */
export interface HostDeps {
  exec(file: string, args: readonly string[], options: ExecOptions): Promise<ExecResult>;
  env: NodeJS.ProcessEnv;
  /** As process.version reports it, e.g. "v20.20.2". */
  nodeVersion: string;
  loadAddon(): AddonStatus;
  /** The installed onnxruntime-node version, or undefined when it is not installed. */
  resolveOnnxruntimeNode(): string | undefined;
}
