import { compareWithToolchain } from "../compare-with-toolchain.js";
import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";
import type { Toolchain } from "@trtforge/toolchain";

const ID = "native-addon";
const LABEL = "TensorRT addon";

export function probeNativeAddon(deps: Pick<HostDeps, "loadAddon">, toolchain: Toolchain): ProbeResult {
  const addon = deps.loadAddon();
  if (!addon.available) {
    return { id: ID, label: LABEL, status: "missing", detail: `${addon.reason}: ${addon.message}`, fix: addon.fix };
  }
  const loaded = addon.binding.trtVersion();
  const compiled = addon.binding.compiledTrtVersion();
  return compareWithToolchain(toolchain, {
    id: ID,
    label: LABEL,
    component: `tensorrt-${addon.trtMajor}`,
    found: loaded,
    context: `${addon.path} loaded TensorRT ${loaded} (compiled against ${compiled})`,
    fixWhenMismatched: (entry) =>
      `install TensorRT ${entry.pinned} (within ${entry.accepted}) and put its lib folder first on LD_LIBRARY_PATH`,
  });
}
