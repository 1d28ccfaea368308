import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { addonPath, loadAddon, SUPPORTED_TRT_MAJORS } from "../src/loader.js";

const anyBuilt = SUPPORTED_TRT_MAJORS.some((major) => existsSync(addonPath(major)));

describe("loadAddon", () => {
  // No machine of this project has TensorRT: the install script builds nothing there.
  it.skipIf(anyBuilt)("says precisely that the addon is not built, and how to build it", () => {
    const status = loadAddon();
    expect(status.available).toBe(false);
    if (status.available) return;
    expect(status.reason).toBe("not-built");
    expect(status.message).toContain("trtforge_trt11.node");
    expect(status.message).toContain("trtforge_trt10.node");
    expect(status.message).toContain(`${"build"}/Release`);
    expect(status.fix).toContain("TENSORRT_ROOT");
    expect(status.fix).toContain("native/scripts/build.mjs");
    expect(status.fix).toContain("marker builds need no addon");
  });

  it("looks for one binary per supported TensorRT major", () => {
    expect([...SUPPORTED_TRT_MAJORS].sort()).toEqual([10, 11]);
    expect(addonPath(10)).toMatch(/native\/build\/Release\/trtforge_trt10\.node$/);
    expect(addonPath(11)).toMatch(/native\/build\/Release\/trtforge_trt11\.node$/);
  });

  it.runIf(anyBuilt)("loads the binary built on this host and checks its TensorRT major", () => {
    const status = loadAddon();
    if (!status.available) {
      expect(["library-missing", "wrong-major", "load-failed"]).toContain(status.reason);
      return;
    }
    expect(status.binding.trtMajor).toBe(status.trtMajor);
    expect(status.binding.trtVersion().split(".")[0]).toBe(String(status.trtMajor));
  });
});
