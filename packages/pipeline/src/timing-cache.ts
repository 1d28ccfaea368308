import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isForgeError, type Logger } from "@trtforge/core";
import { listVersions, publish } from "@trtforge/model-store";

/**
 * TensorRT timing caches are tied to the GPU and the TensorRT version, so they are kept in the
 * ModelStore per (TensorRT version, compute capability): agent trt-timing-cache, newest version
 * whose metadata matches. Reusing one shortens later builds on the same kind of GPU.
 */
export const TIMING_CACHE_AGENT = "trt-timing-cache";
const FILE = "timing.cache";

export async function loadTimingCache(
  root: string | undefined,
  trtVersion: string,
  computeCapability: string,
): Promise<Uint8Array | undefined> {
  let listing;
  try {
    listing = await listVersions({ agent: TIMING_CACHE_AGENT, ...(root ? { root } : {}) });
  } catch (err) {
    if (isForgeError(err) && (err.code === "STORE_AGENT_NOT_FOUND" || err.code === "FILE_NOT_FOUND")) return undefined;
    throw err;
  }
  const tag = `trt${trtVersion}-sm${computeCapability}`;
  const match = [...listing.versions].reverse().find((v) => v.version.startsWith(`${tag}-`) && v.manifest === "ok");
  return match ? readFile(join(match.path, FILE)) : undefined;
}

export async function saveTimingCache(
  root: string | undefined,
  trtVersion: string,
  computeCapability: string,
  bytes: Uint8Array,
  log: Logger,
): Promise<void> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  try {
    await publish({
      ...(root ? { root } : {}),
      agent: TIMING_CACHE_AGENT,
      version: `trt${trtVersion}-sm${computeCapability}-${stamp}`,
      files: [{ path: FILE, data: bytes }],
      metadata: { trt_version: trtVersion, compute_capability: computeCapability },
      keep: 3,
      logger: log,
    });
  } catch (err) {
    // Another build on this GPU saved its cache in the same second: that one serves the next build as well.
    if (!isForgeError(err) || err.code !== "STORE_VERSION_EXISTS") throw err;
    log.debug({ agent: TIMING_CACHE_AGENT }, "a concurrent build saved its timing cache in the same second; keeping that one");
  }
}
