import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The version of the onnxruntime-node this package measures with, resolved from here: the package
 * that imports it (hostcheck's resolveOnnxruntimeNodeVersion resolves from hostcheck, which has none).
 */
export function onnxruntimeNodeVersion(): string {
  const manifest = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
