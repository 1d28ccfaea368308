import { compareWithToolchain } from "../compare-with-toolchain.js";
import type { HostDeps } from "../host-deps.js";
import type { ProbeResult } from "../probe-result.js";
import type { Toolchain } from "@trtforge/toolchain";

const ID = "onnxruntime-node";
const LABEL = "onnxruntime-node";

export function probeOnnxruntimeNode(deps: Pick<HostDeps, "resolveOnnxruntimeNode">, toolchain: Toolchain): ProbeResult {
  const version = deps.resolveOnnxruntimeNode();
  if (version === undefined) {
    return {
      id: ID,
      label: LABEL,
      status: "missing",
      expected: toolchain.get("onnxruntime-node")?.accepted,
      detail: "onnxruntime-node is not installed where this package can resolve it",
      fix: "pnpm install at the repository root",
    };
  }
  return compareWithToolchain(toolchain, {
    id: ID,
    label: LABEL,
    component: "onnxruntime-node",
    found: version,
    context: "installed onnxruntime-node",
    fixWhenMismatched: (entry) =>
      `pin onnxruntime-node ${entry.pinned} in the package that depends on it and run pnpm install at the repository root`,
  });
}
