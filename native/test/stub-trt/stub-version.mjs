// Publishes a stub engine to a ModelStore the way build-engine publishes a real one: the stub plan
// (make-stub-plan.mjs) as the engine, its v1 metadata written for the GPU and TensorRT at hand, and
// the model's tokenizer files under tokenizer/. Shared by gpu-runtime-smoke.mjs and
// scripts/gpu-serve-check.mjs, which load @trtforge/model-store and @trtforge/engine-format from
// wherever their runtime lives and pass them in.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { stubPlan } from "./make-stub-plan.mjs";

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json"];

/**
 * @param libs `{ publish, formatEngineName, serializeMetadata }`
 * @param o `{ root, agent, version, template, planVersion, device: { name, computeCapability }, tokenizerDir,
 *   patch?, damage? }`: `patch` changes the metadata (hf_revision gives another engine file name),
 *   `damage` changes the engine's last byte after its checksum was taken.
 * @returns `{ engineName, checksum }`
 */
export async function publishStubVersion(libs, o) {
  const plan = stubPlan(o.template, o.planVersion);
  const metadata = {
    ...o.template,
    kind: "engine",
    trt_version: o.planVersion.split(".").slice(0, 3).join("."),
    checksum: createHash("sha256").update(plan).digest("hex"),
    gpu: { name: o.device.name, compute_capability: o.device.computeCapability },
    cuda_version: "13.0",
    created_at: new Date().toISOString(),
    ...o.patch,
  };
  const engineName = libs.formatEngineName({
    task: metadata.task,
    modelId: metadata.model_id,
    revision: metadata.hf_revision,
    trtVersion: metadata.trt_version,
    precision: metadata.precision,
  });
  const bytes = o.damage ? Buffer.concat([plan.subarray(0, plan.length - 1), Buffer.from("!")]) : plan;
  await libs.publish({
    root: o.root,
    agent: o.agent,
    version: o.version,
    files: [
      { path: engineName, data: bytes },
      { path: engineName.replace(/\.engine$/, ".json"), data: libs.serializeMetadata(metadata) },
      ...TOKENIZER_FILES.map((f) => ({ path: `tokenizer/${f}`, sourcePath: join(o.tokenizerDir, f) })),
    ],
    metadata: { engine: engineName, model_id: metadata.model_id, hf_revision: metadata.hf_revision },
    setCurrent: true,
  });
  return { engineName, checksum: metadata.checksum };
}
