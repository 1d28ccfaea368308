import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The version of onnxruntime-node as Node would resolve it from this package. Resolution, not
 * import: loading the package would load its native library, which the check must not depend on.
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
