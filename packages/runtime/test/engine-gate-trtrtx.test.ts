import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, sha256Hex } from "@trtforge/core";
import type { EngineMetadata } from "@trtforge/engine-format";
import { decideEngine } from "../src/engine-gate.js";
import { fakeAddon } from "./fixtures.js";

// A real plan TensorRT-RTX 1.7.1.116 built without a GPU, for its default targets.
const PLAN = join(import.meta.dirname, "../../engine-format/test/fixtures/tiny-trtrtx-1.7.1.116-default.plan");

const metadata: EngineMetadata = {
  schema_version: 1,
  kind: "engine",
  model_name: "org--tiny",
  hf_revision: "main",
  trt_version: "1.7.1.116",
  precision: "fp32",
  build_options: {},
  max_batch_size: 4,
  seq_len: 16,
  checksum: sha256Hex(readFileSync(PLAN)),
  created_at: "2026-12-07T12:00:00.000Z",
  task: "embeddings",
  model_id: "org/tiny",
  onnx_sha256: null,
  inputs: [{ name: "input_ids", dtype: "int64", min_shape: [1, 1], opt_shape: [2, 8], max_shape: [4, 16] }],
  outputs: [{ name: "out", dtype: "float32", min_shape: [1, 1], opt_shape: [2, 8], max_shape: [4, 16] }],
  gpu: null,
  cuda_version: null,
  hardware_compatibility_level: "none",
  version_compatible: false,
  calibration: null,
  accuracy: [],
  builder: { name: "trtforge", version: "0.1.0", git_commit: null },
  library: "tensorrt-rtx",
  target_compute_capabilities: ["8.0", "8.6", "8.9", "12.0", "12.1"],
};

const device = (computeCapability: string) => ({
  index: 0,
  name: "GPU",
  computeCapability,
  uuid: "GPU-00000000-0000-0000-0000-000000000000",
  totalMemoryBytes: 1 << 30,
  multiProcessorCount: 10,
});

describe("the load gate and TensorRT-RTX plans (decided before any load attempt)", () => {
  const logger = createLogger({ level: "silent" });
  const base = { enginePath: PLAN, metadata, deviceId: 0, forceOnnxRuntime: false, logger };

  it("on an H100 (9.0): COMPUTE_CAPABILITY_MISMATCH with the plan's targets, and the addon never loads it", async () => {
    const addon = fakeAddon({ devices: [device("9.0")] });
    let loads = 0;
    const spy = { ...addon, loadEngine: (...args: Parameters<typeof addon.loadEngine>) => (loads++, addon.loadEngine(...args)) };
    const decision = await decideEngine({ ...base, addon: spy });
    expect(decision).toMatchObject({ backend: "onnxruntime", reason: "COMPUTE_CAPABILITY_MISMATCH" });
    expect(decision.backend === "onnxruntime" && decision.detail).toMatch(
      /cannot run on compute capability 9\.0: it was compiled for 8\.0 8\.6 8\.9 12\.0 12\.1/,
    );
    expect(loads).toBe(0);
  });

  it("on a GPU it targets (8.6), or with no GPU known: TRTRTX_RUNTIME_UNAVAILABLE (no TensorRT-RTX backend here)", async () => {
    const onRtx = await decideEngine({ ...base, addon: fakeAddon({ devices: [device("8.6")] }) });
    expect(onRtx).toMatchObject({ backend: "onnxruntime", reason: "TRTRTX_RUNTIME_UNAVAILABLE" });
    expect(onRtx.backend === "onnxruntime" && onRtx.detail).toMatch(/TensorRT-RTX 1\.7\.1\.116 plan .*not built/);
  });
});
