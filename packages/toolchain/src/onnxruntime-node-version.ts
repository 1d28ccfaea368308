import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The version of onnxruntime-node as Node resolves it from this package, which declares the same
 * exact pin as the packages that run it (one installed copy; the dependency test keeps the pins
 * equal). Resolution, not import: loading the package would load its native library, which a
 * version lookup must not depend on. undefined when it is not installed.
 */
export function resolveOnnxruntimeNodeVersion(): string | undefined {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve("onnxruntime-node/package.json");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") return undefined;
    throw err;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { version?: unknown };
  if (typeof manifest.version !== "string") {
    throw new Error(`${manifestPath} has no "version" string`);
  }
  return manifest.version;
}
