import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, ForgeError } from "@trtforge/core";
import { loadOnnxModel, saveOnnxModel, convertToFp16 } from "@trtforge/onnx-graph";
import { pythonInterpreterPath } from "@trtforge/toolchain";
import { verifyEngine } from "@trtforge/verify";
import { minilmOnnx } from "../../calibration/test/minilm-onnx.js";
import { buildWithTensorRtRtx, checkRtxOptions, rtxEngineArtifact, shapeProfiles, type EngineTarget } from "../src/index.js";

// Real TensorRT-RTX builds (python/requirements-trtrtx.lock, no GPU needed): never skipped, since a
// skipped build would let CI pass without NVIDIA's builder having read our ONNX.
const logger = createLogger({ level: "silent" });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-trtrtx-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const target = (precision: EngineTarget["precision"]): EngineTarget => ({
  taskName: "embeddings",
  modelId: "sentence-transformers/all-MiniLM-L6-v2",
  revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
  precision,
  trtVersion: "1.7.1.116",
  typing: "strong",
  profile: { batch: { min: 1, opt: 4, max: 8 }, sequence: { min: 1, opt: 64, max: 128 } },
  inputs: ["input_ids", "attention_mask", "token_type_ids"],
  outputs: [
    { name: "last_hidden_state", dims: ["batch", "seq", 384] },
    { name: "sentence_embedding", dims: ["batch", 384] },
  ],
});

const facts = { onnxSha256: null, calibration: null, accuracy: [], buildOptions: {} };

describe("TensorRT-RTX builder (real builds, no GPU)", () => {
  it("builds the MiniLM fp16 ONNX into a plan that verify-engine accepts for 8.6 and refuses for 9.0", { timeout: 600_000 }, async () => {
    const fp16 = join(dir, "model.fp16.onnx");
    await saveOnnxModel(convertToFp16(await loadOnnxModel(minilmOnnx())), fp16);
    const t = target("fp16");
    const stages = new Set<string>();
    const built = await buildWithTensorRtRtx({
      python: pythonInterpreterPath(process.env),
      onnxPath: fp16,
      planPath: join(dir, "minilm-fp16.plan"),
      precision: "fp16",
      profiles: shapeProfiles(t),
      computeCapabilities: ["86", "8.9"],
      logger,
      onProgress: (e) => stages.add(e.stage),
    });
    expect(built.version).toBe("1.7.1.116");
    expect(built.computeCapabilities).toEqual(["8.6", "8.9"]);
    expect(built.engineBytes.length).toBeGreaterThan(10_000_000);
    expect(stages.has("parse")).toBe(true);
    expect(built.warnings.some((w) => /Int64 binding/.test(w))).toBe(true);

    const artifact = rtxEngineArtifact(t, { name: "trtforge", version: "0.1.0", git_commit: null }, new Date(), facts, built);
    expect(artifact.engineName).toMatch(/-trtrtx-1\.7\.1\.116-fp16\.engine$/);
    const enginePath = join(dir, artifact.engineName);
    await writeFile(enginePath, artifact.engineBytes);
    await writeFile(join(dir, artifact.sidecarName), artifact.sidecarText);
    const ok = await verifyEngine(enginePath, { requireReal: true, runtime: { computeCapability: "8.6", trtRtxVersion: "1.7.1.116" } });
    expect(ok.problems).toEqual([]);
    expect(ok.plan_header).toMatchObject({ library: "tensorrt-rtx", compute_capabilities: ["8.6", "8.9"] });
    const hopper = await verifyEngine(enginePath, { runtime: { computeCapability: "9.0", trtRtxVersion: "1.7.1.116" } });
    expect(hopper.problems.map((p) => p.code)).toEqual(["RUNTIME_CC_MISMATCH"]);
  });

  it("refuses int8 and unknown targets before starting Python", () => {
    expect(() => checkRtxOptions("int8", [])).toThrow(expect.objectContaining({ code: "BUILDER_PRECISION_UNSUPPORTED" }) as ForgeError);
    expect(() => checkRtxOptions("fp16", ["90"])).toThrow(/not a TensorRT-RTX target/);
    expect(checkRtxOptions("fp32", ["80", "12.0", "121"])).toEqual(["8.0", "12.0", "12.1"]);
  });

  it("reports a model NVIDIA's parser rejects as TRT_PARSE_FAILED", { timeout: 120_000 }, async () => {
    const bad = join(dir, "bad.onnx");
    await writeFile(bad, "not an onnx model");
    await expect(
      buildWithTensorRtRtx({
        python: pythonInterpreterPath(process.env),
        onnxPath: bad,
        planPath: join(dir, "bad.plan"),
        precision: "fp32",
        profiles: [{ input: "x", min: [1], opt: [1], max: [1] }],
        computeCapabilities: [],
        logger,
      }),
    ).rejects.toMatchObject({ code: "TRT_PARSE_FAILED" });
  });
});
