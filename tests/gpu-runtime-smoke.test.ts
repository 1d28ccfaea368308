import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli-helpers.js";

// scripts/gpu-smoke.sh runs native/test/stub-trt/gpu-runtime-smoke.mjs on a GPU with the real addon
// and the stub TensorRT runtime. Here it runs on stub-emulation.mjs (the same plans, the same
// formula in JavaScript), so the program is known to work before borrowed GPU time is spent on it.
describe("the GPU runtime smoke program, on the stub emulation", () => {
  it("opens, verifies, runs, batches, refuses and hot-swaps a stub engine through @trtforge/runtime", () => {
    const stub = join(ROOT, "native/test/stub-trt");
    const output = execFileSync(
      process.execPath,
      [
        join(stub, "gpu-runtime-smoke.mjs"),
        "--runtime",
        join(ROOT, "packages/runtime"),
        "--tokenizer",
        join(ROOT, ".tools/models/all-MiniLM-L6-v2"),
        "--articles",
        join(ROOT, "data/ag_news/test.csv"),
        "--metadata",
        join(stub, "minilm-fp32.metadata.json"),
        "--plan-version",
        "10.16.0.72",
        "--emulate",
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(output).toMatch(/^ok 1 - openServedModel/m);
    expect(output).toMatch(/1x1, 32x256/);
    expect(output).toMatch(/served by v1 and v2/);
    expect(output).toMatch(/# all 7 checks passed/);
  }, 150_000);
});
