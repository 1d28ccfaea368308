import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddonBinding } from "./binding-types.js";

/** The full typed interface of what trtforge_trt<major>.node exports (and the fake implements). */
export type * from "./binding-types.js";

/** The TensorRT majors this source tree has branches for; one `.node` binary per major. */
export const SUPPORTED_TRT_MAJORS = [11, 10] as const;

export type AddonStatus =
  | { available: true; trtMajor: number; path: string; binding: AddonBinding }
  | {
      available: false;
      reason: "not-built" | "library-missing" | "wrong-major" | "load-failed";
      message: string;
      fix: string;
      path?: string;
    };

const buildDir = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release");

export function addonPath(major: number): string {
  return join(buildDir, `trtforge_trt${major}.node`);
}

/**
 * Finds and loads the addon, and says precisely why when it cannot: nothing was built (no TensorRT
 * at install time), the binary is there but libnvinfer is not, or the loaded library is another
 * TensorRT major than the headers the binary was compiled against.
 */
export function loadAddon(): AddonStatus {
  const candidates = SUPPORTED_TRT_MAJORS.map((major) => ({ major, path: addonPath(major) })).filter((c) => existsSync(c.path));
  if (candidates.length === 0) {
    return {
      available: false,
      reason: "not-built",
      message: `the TensorRT addon is not built: no ${SUPPORTED_TRT_MAJORS.map((m) => `trtforge_trt${m}.node`).join(" or ")} in ${buildDir}`,
      fix: "on a host with TensorRT 10 or 11, set TENSORRT_ROOT (or install TensorRT's headers and libraries in the standard paths) and run node native/scripts/build.mjs (pnpm install runs it); marker builds need no addon",
    };
  }
  const require = createRequire(import.meta.url);
  let lastFailure: AddonStatus | undefined;
  for (const { major, path } of candidates) {
    try {
      const binding = require(path) as AddonBinding;
      if (binding.trtMajor !== major) {
        lastFailure = {
          available: false,
          reason: "load-failed",
          path,
          message: `${path} reports trtMajor ${binding.trtMajor}, not ${major}: the file was renamed or built by another tree`,
          fix: "rebuild the addon (node native/scripts/build.mjs)",
        };
        continue;
      }
      const loadedMajor = Number(binding.trtVersion().split(".")[0]);
      if (loadedMajor !== major) {
        lastFailure = {
          available: false,
          reason: "wrong-major",
          path,
          message: `${path} was compiled for TensorRT ${major} but loaded TensorRT ${binding.trtVersion()}`,
          fix: `put libnvinfer.so.${major} first on LD_LIBRARY_PATH, or rebuild the addon against TensorRT ${loadedMajor}`,
        };
        continue;
      }
      return { available: true, trtMajor: major, path, binding };
    } catch (err) {
      const message = (err as Error).message;
      const missingLib = /lib(nvinfer|nvonnxparser|cudart)[^:\s]*\.so[^:\s]*/.exec(message);
      lastFailure = missingLib
        ? {
            available: false,
            reason: "library-missing",
            path,
            message: `${path} is built but ${missingLib[0]} cannot be loaded: ${message}`,
            fix: `install TensorRT ${major} and add its lib folder to LD_LIBRARY_PATH`,
          }
        : {
            available: false,
            reason: "load-failed",
            path,
            message: `${path} failed to load: ${message}`,
            fix: "rebuild the addon for this Node.js and TensorRT (node native/scripts/build.mjs)",
          };
    }
  }
  return lastFailure!;
}
