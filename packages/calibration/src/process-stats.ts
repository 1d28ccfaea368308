import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The process's peak resident set size so far, in bytes (getrusage's ru_maxrss, which Node gives
 * in KiB). It is the peak of the whole process: a caller measuring one stage alone runs it in a
 * fresh process.
 */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The onnxruntime-node version this package runs, for the record. */
export function onnxruntimeNodeVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
