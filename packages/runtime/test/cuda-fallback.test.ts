import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../../../tests/support/errors.js";
import {
  classifyCudaError,
  diagnoseProviderLoad,
  openServedModel,
  ORT_CUDA_PROVIDER_LIBRARIES,
  ortBindingDir,
  probeCudaProvider,
} from "../src/index.js";
import { agNewsTexts, minilmCpuInt8Onnx, minilmOnnx, publishVersion, sha256Of } from "./fixtures.js";

let dir: string;
let root: string;
/** A binding folder without the provider libraries: the state of every CPU-only host (and CI). */
let bare: string;
/** A binding folder whose provider libraries are there but not loadable (not ELF files). */
let broken: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-runtime-cuda-"));
  root = join(dir, "store");
  bare = join(dir, "bare");
  broken = join(dir, "broken");
  await mkdir(bare);
  await mkdir(broken);
  for (const lib of ORT_CUDA_PROVIDER_LIBRARIES) await writeFile(join(broken, lib), "not a shared library");
  // The stand-in for the fp16 GPU form: the fp32 export under the GPU-serving name (which file serves is what is tested).
  await publishVersion({
    root,
    agent: "gpu",
    version: "v1",
    onnx: { "model.onnx": minilmOnnx(), "model.gpu.onnx": minilmOnnx(), "model.cpu.onnx": await minilmCpuInt8Onnx() },
    extra: [
      { path: "cpu-serving.json", data: JSON.stringify({ file: "model.cpu.onnx", precision: "int8", quantization: "dynamic-int8" }) },
    ],
  });
  await publishVersion({ root, agent: "plain", version: "v1" });
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the CUDA provider's reasons", () => {
  it("names what failed from ONNX Runtime's and dlopen's own words", () => {
    expect(classifyCudaError("libcublasLt.so.13: cannot open shared object file: No such file or directory")).toBe(
      "CUDA_LIBRARIES_MISSING",
    );
    expect(classifyCudaError("Failed to load library libcudnn.so.9")).toBe("CUDA_LIBRARIES_MISSING");
    expect(classifyCudaError("/x/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory")).toBe(
      "ORT_CUDA_PROVIDER_MISSING",
    );
    expect(classifyCudaError("CUDA failure 100: no CUDA-capable device is detected ; GPU=0")).toBe("CUDA_DEVICE_UNAVAILABLE");
    expect(classifyCudaError("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version")).toBe(
      "CUDA_DEVICE_UNAVAILABLE",
    );
    expect(classifyCudaError("CUDA failure 2: out of memory ; GPU=0 ; file=cuda_allocator.cc")).toBe("CUDA_OUT_OF_MEMORY");
    expect(classifyCudaError("Failed to allocate memory for requested buffer of size 1073741824")).toBe("CUDA_OUT_OF_MEMORY");
    expect(classifyCudaError("Non-zero status code returned while running Attention node")).toBe("ORT_CUDA_FAILED");
  });

  it("probes the binding folder for both libraries, and says which are missing and where", () => {
    const missing = probeCudaProvider(bare);
    expect(missing).toMatchObject({ ok: false, reason: "ORT_CUDA_PROVIDER_MISSING" });
    if (!missing.ok) {
      expect(missing.detail).toContain("libonnxruntime_providers_cuda.so");
      expect(missing.detail).toContain(bare);
      expect(missing.detail).toContain("setup-ort-cuda.sh");
    }
    expect(probeCudaProvider(broken)).toEqual({ ok: true, dir: broken });
    expect(probeCudaProvider(undefined)).toMatchObject({ ok: false, reason: "ORT_CUDA_PROVIDER_MISSING" });
    // The installed onnxruntime-node is found (its binding is where the libraries must go).
    expect(ortBindingDir()).toMatch(/onnxruntime-node[/\\]bin[/\\]napi-v6[/\\]linux[/\\]x64$/);
  });

  it("diagnoses a provider library that is there but does not load, naming it and dlopen's reason", () => {
    const load = diagnoseProviderLoad(broken);
    expect(load.ok).toBe(false);
    if (!load.ok) {
      expect(load.detail).toMatch(/^libonnxruntime_providers_shared\.so does not load: /);
      expect(load.detail).toMatch(/invalid ELF header|file too short/);
    }
  });
});

describe("fallback order on ONNX Runtime: CUDA (GPU form, else fp32), then the CPU", () => {
  it("a GPU worker without the provider serves on the CPU, the CPU order's file, both reasons in its evidence", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "gpu" }, { onnxCuda: true, ortBindingDir: bare });
    try {
      expect(model.evidence).toMatchObject({
        backend: "onnxruntime",
        fallback_reason: "ENGINE_IS_MARKER",
        execution_provider: "cpu",
        cuda_fallback_reason: "ORT_CUDA_PROVIDER_MISSING",
        artifact: "model.cpu.onnx",
      });
      expect(model.evidence.gpu_uuid).toBeUndefined();
      expect(model.fallbackDetail).toContain("CUDA: libonnxruntime_providers");
      const out = await model.run(model.tokenize(await agNewsTexts(2), { truncate: true }));
      expect(out.find((o) => o.name === "sentence_embedding")!.shape).toEqual([2, 384]);
    } finally {
      await model.dispose();
    }
  }, 120_000);

  it("with the installed onnxruntime-node: the provider is absent here, so the same reason (CPU-only hosts and CI)", async (ctx) => {
    // On a host where scripts/setup-ort-cuda.sh has run this path is the GPU one, tested on the device.
    if (probeCudaProvider().ok) ctx.skip();
    const model = await openServedModel({ storeRoot: root, agent: "plain" }, { onnxCuda: true });
    await model.dispose();
    expect(model.evidence).toMatchObject({
      execution_provider: "cpu",
      cuda_fallback_reason: "ORT_CUDA_PROVIDER_MISSING",
      artifact: "model.onnx",
    });
  }, 120_000);

  it("libraries that are there but do not load: ONNX Runtime's refusal is diagnosed, and the CPU serves", async () => {
    // onnxruntime-node loads providers from its own binding folder, which lacks them here; the
    // diagnosis then reads the folder given, whose files are not libraries.
    if (probeCudaProvider().ok) return;
    const model = await openServedModel({ storeRoot: root, agent: "plain" }, { onnxCuda: true, ortBindingDir: broken });
    await model.dispose();
    expect(model.evidence.execution_provider).toBe("cpu");
    expect(model.evidence.cuda_fallback_reason).toBe("ORT_CUDA_FAILED");
    expect(model.fallbackDetail).toContain("libonnxruntime_providers_shared.so does not load");
  }, 120_000);

  it("requireGpu refuses the CPU with GPU_REQUIRED and the reason, on a GPU worker and on a worker without a GPU", async () => {
    const onGpu = await rejection(
      openServedModel({ storeRoot: root, agent: "gpu" }, { onnxCuda: true, requireGpu: true, ortBindingDir: bare }),
    );
    expect(onGpu.code).toBe("GPU_REQUIRED");
    expect(onGpu.exitCode).toBe(118);
    expect(onGpu.details).toMatchObject({ reason: "ORT_CUDA_PROVIDER_MISSING" });
    expect(onGpu.fix).toContain("setup-ort-cuda.sh");
    const noGpu = await rejection(openServedModel({ storeRoot: root, agent: "gpu" }, { requireGpu: true }));
    expect(noGpu.code).toBe("GPU_REQUIRED");
    expect(noGpu.details).toMatchObject({ reason: "CUDA_DEVICE_UNAVAILABLE" });
  }, 120_000);

  it("a CPU worker is not asked about CUDA: no cuda reason, the CPU order", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "gpu" });
    await model.dispose();
    expect(model.evidence.execution_provider).toBe("cpu");
    expect(model.evidence.cuda_fallback_reason).toBeUndefined();
    expect(model.evidence.artifact).toBe("model.cpu.onnx");
  }, 120_000);

  it("onnxVariant gpu serves model.gpu.onnx (on the CPU when CUDA cannot), and refuses a version without one", async () => {
    const model = await openServedModel({ storeRoot: root, agent: "gpu" }, { onnxVariant: "gpu", onnxCuda: true, ortBindingDir: bare });
    await model.dispose();
    expect(model.evidence).toMatchObject({ artifact: "model.gpu.onnx", precision: "fp16", checksum: await sha256Of(minilmOnnx()) });
    const missing = await rejection(openServedModel({ storeRoot: root, agent: "plain" }, { onnxVariant: "gpu" }));
    expect(missing.code).toBe("MODEL_UNSERVABLE");
    expect(missing.message).toContain("model.gpu.onnx");
  }, 120_000);
});
