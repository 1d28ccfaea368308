import type { HostReport } from "./check-host.js";
import { HOST_MODES } from "./modes.js";

const NONE = "-";

/** The report for a terminal: mode readiness first (the answer), then each probe (the reasons). */
export function formatHostReport(report: HostReport): string {
  const modeRows = HOST_MODES.map((mode) => {
    const { ready, blocking } = report.modes[mode];
    return [mode, ready ? "yes" : "no", blocking.length === 0 ? NONE : blocking.join(", ")];
  });
  const lines = [`Host check against ${report.toolchainPath}`, "", ...table(["MODE", "READY", "BLOCKED BY"], modeRows), ""];

  const probeRows = report.probes.map((p) => [p.id, p.status, p.found ?? NONE, p.expected ?? NONE]);
  const probeLines = table(["PROBE", "STATUS", "FOUND", "EXPECTED"], probeRows);
  lines.push(probeLines[0]!);
  report.probes.forEach((probe, i) => {
    lines.push(probeLines[i + 1]!);
    lines.push(`    ${probe.label}: ${indentContinuation(probe.detail)}`);
    if (probe.fix !== undefined && probe.status !== "ok") lines.push(`    fix: ${indentContinuation(probe.fix)}`);
  });

  lines.push("", "GPUS");
  if (report.gpus.length === 0) lines.push("  none");
  const gpuRows = report.gpus.map((g) => [
    String(g.index),
    g.name,
    `compute ${g.computeCapability}`,
    `driver ${g.driverVersion}`,
    g.memoryMiB === null ? "memory unknown" : `${g.memoryMiB} MiB`,
  ]);
  if (gpuRows.length > 0) lines.push(...table(["INDEX", "NAME", "COMPUTE", "DRIVER", "MEMORY"], gpuRows).map((l) => `  ${l}`));
  return `${lines.join("\n")}\n`;
}

/** Left-aligned columns padded to their widest cell; the first line is the header. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? "").length)));
  const render = (cells: string[]) => cells.map((c, col) => (col === cells.length - 1 ? c : c.padEnd(widths[col]!))).join("  ");
  return [render(header), ...rows.map(render)];
}

/** Keeps multi-line details (stderr, several fixes) under their probe instead of at column 0. */
function indentContinuation(text: string): string {
  return text.replace(/\r?\n/g, "\n      ");
}
