import { loadAddon } from "@trtforge/native";
import { diagnoseProviderLoad } from "@trtforge/runtime";
import { execCommand, resolveOnnxruntimeNodeVersion } from "@trtforge/toolchain";
import type { HostDeps } from "./host-deps.js";

/** The real host; `overrides` replace single effects (tests fake some and keep the rest real). */
export function hostDeps(overrides: Partial<HostDeps> = {}): HostDeps {
  return {
    exec: overrides.exec ?? execCommand,
    env: overrides.env ?? process.env,
    nodeVersion: overrides.nodeVersion ?? process.version,
    loadAddon: overrides.loadAddon ?? loadAddon,
    resolveOnnxruntimeNode: overrides.resolveOnnxruntimeNode ?? resolveOnnxruntimeNodeVersion,
    loadOrtCudaProvider: overrides.loadOrtCudaProvider ?? (() => diagnoseProviderLoad()),
  };
}
