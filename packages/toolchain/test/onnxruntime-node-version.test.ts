import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGE = join(import.meta.dirname, "..");
const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { dependencies: Record<string, string> };

/**
 * The lookup as a command-line run does it: in a fresh Node without NODE_PATH, which `pnpm exec`
 * sets to the store's hoisted folder and which would find onnxruntime-node from anywhere.
 */
function lookupOutsidePnpm(): string {
  const env = { ...process.env };
  delete env.NODE_PATH;
  const entry = pathToFileURL(join(PACKAGE, "dist", "index.js")).href;
  const script = `const { resolveOnnxruntimeNodeVersion } = await import(${JSON.stringify(entry)}); process.stdout.write(String(resolveOnnxruntimeNodeVersion() ?? null));`;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
}

describe("resolveOnnxruntimeNodeVersion", () => {
  // It resolves from this package's own location, so it finds onnxruntime-node only because this
  // package declares it; provenance.json's onnxruntime_node comes from here.
  it("finds the onnxruntime-node this package pins, without pnpm's NODE_PATH", () => {
    expect(manifest.dependencies["onnxruntime-node"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lookupOutsidePnpm()).toBe(manifest.dependencies["onnxruntime-node"]);
  });
});
