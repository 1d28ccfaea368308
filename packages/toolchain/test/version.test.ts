import { describe, expect, it } from "vitest";
import { buildFlavor, comparableVersion } from "../src/index.js";

describe("comparableVersion", () => {
  it("drops local build labels and a fourth component", () => {
    expect(comparableVersion("2.13.0+cpu")).toBe("2.13.0");
    expect(comparableVersion("2.13.0+cu128")).toBe("2.13.0");
    expect(comparableVersion("10.16.0.72")).toBe("10.16.0");
    expect(comparableVersion("v20.20.2")).toBe("20.20.2");
    expect(comparableVersion("12.9")).toBe("12.9.0");
  });

  it("keeps PEP 440 pre-releases as semver pre-releases, so that a pinned release rejects them", () => {
    expect(comparableVersion("2.13.0rc1")).toBe("2.13.0-rc1");
    expect(comparableVersion("2.13.0.dev20260101+cpu")).toBe("2.13.0-dev20260101");
    expect(comparableVersion("1.30.0.post1")).toBe("1.30.0");
  });

  it("returns undefined when there is no number", () => {
    expect(comparableVersion("unknown")).toBeUndefined();
  });
});

describe("buildFlavor", () => {
  it("names CPU, CUDA and ROCm builds", () => {
    expect(buildFlavor("2.13.0+cpu")).toBe("CPU build");
    expect(buildFlavor("2.13.0+cu128")).toBe("CUDA 12.8 build");
    expect(buildFlavor("2.13.0+cu130")).toBe("CUDA 13.0 build");
    expect(buildFlavor("2.13.0+rocm6.4")).toBe("ROCm 6.4 build");
    expect(buildFlavor("2.13.0")).toBeUndefined();
  });
});
