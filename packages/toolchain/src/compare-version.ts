import type { Toolchain, ToolchainEntry } from "./toolchain.js";
import { buildFlavor, comparableVersion, satisfiesRange } from "./version.js";

export interface VersionFinding {
  /** The toolchain row to compare with. */
  component: string;
  /** The version as the host reported it. */
  found: string;
  /** Prefixed to the detail, e.g. which interpreter or library reported the version. */
  context?: string;
  /** What to do when the version is outside the accepted range. */
  fixWhenMismatched: (entry: ToolchainEntry) => string;
}

/** `error`: the version could not be compared (no row, or no number in it). */
export interface VersionCheck {
  status: "ok" | "mismatch" | "error";
  found: string;
  /** The accepted range from toolchain_versions.md, when it has a row. */
  expected?: string;
  detail: string;
  fix?: string;
}

/** Compares a found version with its toolchain row; local build labels are reported, not compared. */
export function compareWithToolchain(toolchain: Toolchain, finding: VersionFinding): VersionCheck {
  const { component, found } = finding;
  const context = finding.context ? `${finding.context}; ` : "";
  const entry = toolchain.get(component);
  if (!entry) {
    return {
      status: "error",
      found,
      detail: `${context}toolchain_versions.md has no \`${component}\` row to compare ${found} with`,
      fix: `add a \`${component}\` row to toolchain_versions.md`,
    };
  }
  const comparable = comparableVersion(found);
  if (comparable === undefined) {
    return {
      status: "error",
      found,
      expected: entry.accepted,
      detail: `${context}"${found}" holds no version number to compare with ${entry.accepted}`,
    };
  }
  const flavor = buildFlavor(found);
  const countedAs = comparable === found.trim() || comparable === found.trim().replace(/^v/, "") ? "" : `counted as ${comparable}`;
  const notes = [countedAs, flavor].filter((n) => n !== undefined && n !== "").join(", ");
  const suffix = notes === "" ? "" : ` (${notes})`;
  if (satisfiesRange(comparable, entry.accepted)) {
    return { status: "ok", found, expected: entry.accepted, detail: `${context}${found}${suffix} is within ${entry.accepted}` };
  }
  return {
    status: "mismatch",
    found,
    expected: entry.accepted,
    detail: `${context}${found}${suffix} is outside ${entry.accepted} (pinned ${entry.pinned})`,
    fix: finding.fixWhenMismatched(entry),
  };
}
