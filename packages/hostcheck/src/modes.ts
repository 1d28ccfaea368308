import { ForgeError } from "@trtforge/core";
import type { ProbeId, ProbeResult } from "./probe-result.js";
import { PYTHON_PACKAGES } from "@trtforge/toolchain";

export const HOST_MODES = ["marker", "export", "calibrate", "build"] as const;
export type HostMode = (typeof HOST_MODES)[number];

/**
 * The probes each `--for` mode needs to pass. build needs the driver's CUDA version as well as a
 * GPU: a driver too old for the CUDA that TensorRT was built with cannot run the engine builder.
 */
export const MODE_REQUIREMENTS: Readonly<Record<HostMode, readonly ProbeId[]>> = {
  marker: ["node"],
  export: ["node", "python", ...PYTHON_PACKAGES],
  calibrate: ["node", "onnxruntime-node"],
  build: ["node", "native-addon", "gpu", "cuda-driver"],
};

export interface ModeReadiness {
  ready: boolean;
  /** Ids of the required probes whose status is not "ok", in requirement order. */
  blocking: ProbeId[];
}

export type ModeReport = Record<HostMode, ModeReadiness>;

/** The host's readiness per mode; a required probe that did not run counts as blocking. */
export function evaluateModes(probes: readonly ProbeResult[]): ModeReport {
  const statusById = new Map(probes.map((p) => [p.id, p.status]));
  const readiness = (mode: HostMode): ModeReadiness => {
    const blocking = MODE_REQUIREMENTS[mode].filter((id) => statusById.get(id) !== "ok");
    return { ready: blocking.length === 0, blocking };
  };
  return { marker: readiness("marker"), export: readiness("export"), calibrate: readiness("calibrate"), build: readiness("build") };
}

export function isHostMode(value: string): value is HostMode {
  return (HOST_MODES as readonly string[]).includes(value);
}

/** The parts of a host report that assertModeReady reads. */
export interface ModeReadinessSource {
  probes: readonly ProbeResult[];
  modes: ModeReport;
}

/** Throws HOST_MODE_UNAVAILABLE naming each blocking item (message) and what to install (fix). */
export function assertModeReady(report: ModeReadinessSource, mode: HostMode): void {
  const { blocking } = report.modes[mode];
  if (blocking.length === 0) return;
  const blockers = blocking.map((id) => report.probes.find((p) => p.id === id) ?? notProbed(id));
  const items = blockers.map(
    (p) =>
      `  - ${p.label} (${p.id}): ${p.status}${p.found === undefined ? "" : `, found ${p.found}`}${p.expected === undefined ? "" : `, expected ${p.expected}`}: ${p.detail}`,
  );
  const fixes = blockers.map((p) => `${p.label}: ${p.fix ?? "see its detail in the message"}`);
  throw new ForgeError("HOST_MODE_UNAVAILABLE", `this host cannot run --for ${mode}; missing or unusable:\n${items.join("\n")}`, {
    input: mode,
    fix: fixes.join("\n"),
    details: { mode, blocking },
  });
}

function notProbed(id: ProbeId): ProbeResult {
  return { id, label: id, status: "error", detail: "no probe result in the report", fix: "rerun the host check" };
}
