import { describe, expect, it } from "vitest";
import type { ModelEvidence } from "@trtforge/runtime";
import { FrontMetrics, WorkerMetrics } from "../src/index.js";
import { evidenceParameters } from "../src/protocol/metadata.js";

const evidence: ModelEvidence = {
  model_id: "sentence-transformers/all-MiniLM-L6-v2",
  hf_revision: "abc",
  agent: "embed",
  version: "v1",
  backend: "onnxruntime",
  precision: "cpu-int8",
  checksum: "0".repeat(64),
  artifact: "model.cpu.onnx",
  fallback_reason: "ENGINE_IS_MARKER",
  execution_provider: "cpu",
  cuda_fallback_reason: "ORT_CUDA_PROVIDER_MISSING",
};

describe("a GPU worker serving on the CPU", () => {
  it("counts both steps down by their reasons, and its responses carry the provider and the CUDA reason", async () => {
    const worker = new WorkerMetrics();
    worker.versionServing(evidence);
    const text = (await new FrontMetrics(undefined).scrape([await worker.registry.getMetricsAsJSON()])).text;
    expect(text).toContain('trtforge_model_fallback_total{model="embed",version="v1",reason="ENGINE_IS_MARKER"} 1');
    expect(text).toContain('trtforge_model_fallback_total{model="embed",version="v1",reason="ORT_CUDA_PROVIDER_MISSING"} 1');
    expect(evidenceParameters(evidence)).toMatchObject({ execution_provider: "cpu", cuda_fallback_reason: "ORT_CUDA_PROVIDER_MISSING" });
  });

  it("a model on ONNX Runtime's CUDA provider is counted once, with its GPU in the info series", async () => {
    const worker = new WorkerMetrics();
    const { cuda_fallback_reason: _reason, ...rest } = evidence;
    worker.versionServing({ ...rest, execution_provider: "cuda", precision: "fp16", artifact: "model.gpu.onnx", gpu_uuid: "GPU-1234" });
    const text = (await new FrontMetrics(undefined).scrape([await worker.registry.getMetricsAsJSON()])).text;
    expect(text).not.toContain("ORT_CUDA");
    expect(text).toMatch(/trtforge_model_info\{[^}]*precision="fp16"[^}]*gpu_uuid="GPU-1234"\} 1/);
  });
});
