import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveOnnxruntimeNodeVersion } from "../src/index.js";

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { dependencies: Record<string, string> };

describe("resolveOnnxruntimeNodeVersion", () => {
  // It resolves from this package's own location, so it finds onnxruntime-node only because this
  // package declares it; provenance.json's onnxruntime_node comes from here.
  it("finds the onnxruntime-node this package pins", () => {
    expect(manifest.dependencies["onnxruntime-node"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(resolveOnnxruntimeNodeVersion()).toBe(manifest.dependencies["onnxruntime-node"]);
  });
});
