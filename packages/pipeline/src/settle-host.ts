import { ForgeError, type Logger } from "@trtforge/core";
import type { AddonStatus, CudaDevice } from "@trtforge/native";
import { parseTrtVersion, trtVersionsAgree } from "@trtforge/engine-format";
import { assertTypingPossible, type BuildRequest, type ValueSource } from "./build-request.js";

/** What this host will build with, decided before any stage runs. */
export interface SettledHost {
  kind: "engine" | "marker";
  /** The TensorRT the engine is built with (the addon's), or the one a marker stands in for. */
  trtVersion: string;
  trtVersionSource: ValueSource;
  device: CudaDevice | undefined;
  deviceId: number;
  addon: AddonStatus;
}

/**
 * Settles the addon, the TensorRT version, the device and whether the requested typing is possible
 * on that TensorRT, before export: the precision stage keys its result and writes its calibration
 * cache header with the version settled here, and a host that cannot build says so at once.
 */
export function settleHost(
  request: BuildRequest,
  addon: AddonStatus,
  options: { marker: boolean; deviceId: number; logger: Logger },
): SettledHost {
  const log = options.logger;
  // TensorRT-RTX compiles ahead of time in Python: no addon, no GPU.
  if (request.build.engineBuilder === "tensorrt-rtx") {
    return {
      kind: "engine",
      trtVersion: request.build.trtVersion,
      trtVersionSource: "host",
      device: undefined,
      deviceId: options.deviceId,
      addon,
    };
  }
  if (!addon.available) {
    if (!options.marker) log.warn({ reason: addon.message }, "TensorRT is not available: the run will stop before the build stage");
    return {
      kind: "marker",
      trtVersion: request.build.trtVersion,
      trtVersionSource: request.sources.trtVersion ?? "default",
      device: undefined,
      deviceId: options.deviceId,
      addon,
    };
  }
  const devices = addon.binding.devices();
  const device = devices.find((d) => d.index === options.deviceId);
  if (!device) {
    throw new ForgeError("INVALID_DEVICE_ID", `GPU ${options.deviceId} does not exist on this host (${devices.length} GPU(s))`, {
      input: "--device",
      fix: "pick a GPU id from build-engine --check-only",
    });
  }
  const trtVersion = addon.binding.trtVersion();
  if (request.sources.trtVersion === "flag" && !sameTrtVersion(trtVersion, request.build.trtVersion)) {
    log.warn(
      { requested: request.build.trtVersion, host: trtVersion },
      "--trt-version differs from the TensorRT this host builds with: the host's is used and recorded",
    );
  }
  assertTypingPossible(request.build.typing, trtVersion, "this host's TensorRT");
  return { kind: "engine", trtVersion, trtVersionSource: "host", device, deviceId: options.deviceId, addon };
}

/** Both versions parse and agree on every component both state ("10.16" and "10.16.0.72" do; "10.1" and "10.16.0" do not). */
function sameTrtVersion(host: string, requested: string): boolean {
  const [a, b] = [parseTrtVersion(host), parseTrtVersion(requested)];
  return a !== undefined && b !== undefined && trtVersionsAgree(a, b);
}
