import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineMetadataSchema, readPlanHeader } from "@trtforge/engine-format";
import { stubPlan, stubPlanText } from "../native/test/stub-trt/make-stub-plan.mjs";
import { ROOT } from "./cli-helpers.js";

// The stub plans that scripts/gpu-smoke.sh loads through the stub TensorRT runtime
// (native/test/stub-trt/stub_runtime.cu parses the same lines).
const metadata = EngineMetadataSchema.parse(JSON.parse(readFileSync(join(ROOT, "native/test/stub-trt/minilm-fp32.metadata.json"), "utf8")));

describe("stub plans for the GPU smoke run", () => {
  it("declare the published MiniLM engine's I/O tensors, dynamic dims as -1, outputs bound to batch and sequence", () => {
    expect(metadata.model_id).toBe("sentence-transformers/all-MiniLM-L6-v2");
    expect(stubPlanText(metadata).split("\n").slice(1)).toEqual([
      "input input_ids int64 -1,-1 1,1 16,128 32,256",
      "input attention_mask int64 -1,-1 1,1 16,128 32,256",
      "input token_type_ids int64 -1,-1 1,1 16,128 32,256",
      "output last_hidden_state float32 @0.0,@0.1,384",
      "output sentence_embedding float32 @0.0,384",
      "",
    ]);
  });

  it("carry TensorRT's plan header (ftrt magic, version at bytes 24-27) that verify-engine and the addon read", () => {
    for (const version of ["10.16.0.72", "11.1.0.106"]) {
      const reading = readPlanHeader(stubPlan(metadata, version));
      expect(reading).toEqual({ ok: true, header: expect.objectContaining({ version }) });
    }
  });

  it("refuse an output dimension that no input dimension explains, and a malformed version", () => {
    const odd = { ...metadata, outputs: [{ name: "x", dtype: "float32", min_shape: [1, 7], opt_shape: [16, 8], max_shape: [32, 9] }] };
    expect(() => stubPlanText(odd)).toThrow(/output x dimension 1 .* matches no input dimension/);
    expect(() => stubPlan(metadata, "10.16.0")).toThrow(/major\.minor\.patch\.build/);
  });
});
