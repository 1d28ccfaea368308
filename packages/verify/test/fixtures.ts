import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeMarker, formatEngineName, serializeMetadata, type EngineMetadata, type Precision } from "@trtforge/engine-format";

import { engineMetadataFixture, type BuildGpu, type MetadataFields } from "../../../tests/support/engine-metadata.js";

export const MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2";
export const REVISION = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";

/** The documented plan header layout: "ftrt" at 0, version bytes at 24..27. */
export function planBytes(version: [number, number, number, number], size = 4096): Buffer {
  const bytes = Buffer.alloc(size, 0x3c);
  bytes.write("ftrt", 0, "ascii");
  bytes.set(version, 24);
  return bytes;
}

export interface Fixture {
  engine: string;
  sidecar: string;
  metadata: EngineMetadata;
}

/** Verify's engines name a real GPU, as a build on one would. */
const BUILD_GPU: BuildGpu = { gpu: { name: "NVIDIA GeForce RTX 3090", compute_capability: "8.6" }, cuda_version: "12.8" };

function metadataFor(
  kind: "engine" | "marker",
  bytes: Buffer,
  trtVersion: string,
  precision: Precision,
  patch: Partial<EngineMetadata>,
): EngineMetadata {
  const fields = {
    model_id: MODEL_ID,
    hf_revision: REVISION,
    trt_version: trtVersion,
    max_batch_size: 128,
    seq_len: 256,
    inputs: [{ name: "input_ids", dtype: "int64", min_shape: [1, 1], opt_shape: [32, 128], max_shape: [128, 256] }],
    outputs: [{ name: "sentence_embedding", dtype: "float32", min_shape: [1, 384], opt_shape: [32, 384], max_shape: [128, 384] }],
  } satisfies MetadataFields;
  const built = { precision, created_at: "2026-11-28T12:00:00.000Z", onnx_sha256: kind === "engine" ? "e".repeat(64) : null };
  return engineMetadataFixture(kind, bytes, fields, { ...built, ...patch }, BUILD_GPU);
}

async function write(dir: string, bytes: Buffer, metadata: EngineMetadata): Promise<Fixture> {
  const name = formatEngineName({
    task: metadata.task,
    modelId: metadata.model_id,
    revision: metadata.hf_revision,
    trtVersion: metadata.trt_version,
    precision: metadata.precision,
    library: metadata.library,
  });
  const engine = join(dir, name);
  const sidecar = engine.replace(/\.engine$/, ".json");
  await writeFile(engine, bytes);
  await writeFile(sidecar, serializeMetadata(metadata));
  return { engine, sidecar, metadata };
}

export async function writeMarkerFixture(dir: string, patch: Partial<EngineMetadata> = {}): Promise<Fixture> {
  const trtVersion = patch.trt_version ?? "10.16.0";
  const precision = patch.precision ?? "int8";
  const bytes = encodeMarker({
    task: "embeddings",
    model_id: MODEL_ID,
    hf_revision: REVISION,
    trt_version: trtVersion,
    precision,
    created_at: "2026-11-28T12:00:00.000Z",
  });
  return write(dir, bytes, metadataFor("marker", bytes, trtVersion, precision, patch));
}

export async function writePlanFixture(
  dir: string,
  version: [number, number, number, number],
  patch: Partial<EngineMetadata> = {},
): Promise<Fixture> {
  const bytes = planBytes(version);
  return write(dir, bytes, metadataFor("engine", bytes, patch.trt_version ?? version.join("."), patch.precision ?? "fp16", patch));
}

/** A real plan that TensorRT-RTX 1.7.1.116 built without a GPU (packages/engine-format/test/fixtures). */
export function rtxPlanBytes(targets: "default" | "cc86"): Buffer {
  return readFileSync(join(import.meta.dirname, "../../engine-format/test/fixtures", `tiny-trtrtx-1.7.1.116-${targets}.plan`));
}

export async function writeRtxPlanFixture(dir: string, targets: "default" | "cc86", patch: Partial<EngineMetadata> = {}): Promise<Fixture> {
  const bytes = rtxPlanBytes(targets);
  return write(
    dir,
    bytes,
    metadataFor("engine", bytes, "1.7.1.116", "fp32", {
      library: "tensorrt-rtx",
      target_compute_capabilities: targets === "default" ? ["8.0", "8.6", "8.9", "12.0", "12.1"] : ["8.6"],
      gpu: null,
      cuda_version: null,
      ...patch,
    }),
  );
}
