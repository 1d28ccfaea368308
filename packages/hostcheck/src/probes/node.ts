import { compareWithToolchain } from "../compare-with-toolchain.js";
import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";
import type { Toolchain } from "@trtforge/toolchain";

export function probeNode(deps: Pick<HostDeps, "nodeVersion">, toolchain: Toolchain): ProbeResult {
  return compareWithToolchain(toolchain, {
    id: "node",
    label: "Node.js",
    component: "node",
    found: deps.nodeVersion.replace(/^v/, ""),
    context: "this process's Node.js",
    fixWhenMismatched: (entry) => `install Node.js ${entry.pinned} (any version within ${entry.accepted}) and rerun`,
  });
}
