import { compareWithToolchain as compareVersion, type Toolchain, type VersionFinding } from "@trtforge/toolchain";
import type { ProbeId, ProbeResult } from "./probe-result.js";

/** A version comparison as a probe result of the report. */
export function compareWithToolchain(toolchain: Toolchain, finding: VersionFinding & { id: ProbeId; label: string }): ProbeResult {
  const { id, label, ...version } = finding;
  return { id, label, ...compareVersion(toolchain, version) };
}
