import { join } from "node:path";
import { ForgeError, type Logger } from "@trtforge/core";
import type { BackendRunner } from "./backend.js";
import { classifyCudaError, diagnoseProviderLoad, probeCudaProvider, type CudaFallbackReason } from "./cuda-provider.js";
import { chooseOnnx, type OnnxChoice, type OnnxVariant } from "./onnx-choice.js";
import { openOrtRunner } from "./ort-backend.js";
import type { VerifiedVersion } from "./store-version.js";

export interface OnnxFallbackOptions {
  variant: OnnxVariant;
  /** Try ONNX Runtime's CUDA provider before the CPU: the worker has a GPU. */
  cuda: boolean;
  /** The CUDA device as the process sees it (0 in a worker pinned by CUDA_VISIBLE_DEVICES). */
  deviceId: number;
  /** Refuse (GPU_REQUIRED) instead of serving on the CPU. */
  requireGpu: boolean;
  intraOpNumThreads?: number | undefined;
  logger: Logger;
  /** Where onnxruntime-node's binding (and so the provider libraries) live; default the installed one. */
  bindingDir?: string | undefined;
}

export interface OnnxFallback {
  runner: BackendRunner;
  onnx: OnnxChoice;
  provider: "cuda" | "cpu";
  /** Why a GPU worker serves on the CPU (set only when CUDA was tried and failed). */
  cudaReason?: CudaFallbackReason;
  cudaDetail?: string;
}

/** One token row of minimal length: the CUDA session must run once (kernels, memory) before it is trusted. */
async function probeRun(runner: BackendRunner): Promise<void> {
  const ones = new BigInt64Array(8).fill(1n);
  await runner.run({ rows: 1, seqLen: 8, inputIds: ones, attentionMask: ones });
}

async function tryCuda(
  version: VerifiedVersion,
  o: OnnxFallbackOptions,
): Promise<{ ok: true; runner: BackendRunner; onnx: OnnxChoice } | { ok: false; reason: CudaFallbackReason; detail: string }> {
  if (!o.cuda) {
    return {
      ok: false,
      reason: "CUDA_DEVICE_UNAVAILABLE",
      detail: "this worker has no GPU (none was found on the host, or the device map gives it none)",
    };
  }
  const probe = probeCudaProvider(o.bindingDir);
  if (!probe.ok) return probe;
  // A missing variant is the caller's error whatever the device: it is not caught here.
  const onnx = await chooseOnnx(version, o.variant, "cuda");
  let runner: BackendRunner | undefined;
  try {
    runner = await openOrtRunner(join(version.path, onnx.file), { cudaDeviceId: o.deviceId });
    await probeRun(runner);
    return { ok: true, runner, onnx };
  } catch (err) {
    await runner?.release().catch(() => {});
    const message = (err as Error).message;
    if (/failed to load shared library/i.test(message)) {
      // ONNX Runtime's message does not say which library: find out the way dlopen sees it.
      const load = diagnoseProviderLoad(probe.dir);
      if (!load.ok) return load;
    }
    return { ok: false, reason: classifyCudaError(message), detail: message };
  }
}

/**
 * ONNX Runtime for a version whose engine is not used: on a GPU worker the CUDA provider first (the
 * GPU-serving fp16 ONNX, else fp32), then the CPU (the CPU variants' order), each step's failure a
 * stable reason. With requireGpu the CPU step is refused instead.
 */
export async function openOnnxFallback(version: VerifiedVersion, o: OnnxFallbackOptions): Promise<OnnxFallback> {
  const cuda = await tryCuda(version, o);
  if (cuda.ok) return { runner: cuda.runner, onnx: cuda.onnx, provider: "cuda" };
  if (o.requireGpu) {
    throw new ForgeError(
      "GPU_REQUIRED",
      `${version.agent}@${version.version} would serve on the CPU (${cuda.reason}: ${cuda.detail}), and the GPU was required`,
      {
        input: `${version.agent}@${version.version}`,
        fix:
          cuda.reason === "ORT_CUDA_PROVIDER_MISSING"
            ? "install ONNX Runtime's CUDA provider with scripts/setup-ort-cuda.sh, or drop --require-gpu"
            : "see the reason (build-engine --check-only reports whether the CUDA provider can load here), or drop --require-gpu",
        details: { reason: cuda.reason, detail: cuda.detail },
      },
    );
  }
  if (o.cuda) {
    o.logger.warn(
      { agent: version.agent, version: version.version, cuda_fallback_reason: cuda.reason, detail: cuda.detail },
      "ONNX Runtime's CUDA provider cannot serve this model: serving on the CPU",
    );
  }
  // The GPU form asked for by name still serves on the CPU (ONNX Runtime's CPU provider runs it); auto takes the CPU order.
  const onnx = await chooseOnnx(version, o.variant, "cpu");
  const runner = await openOrtRunner(
    join(version.path, onnx.file),
    o.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: o.intraOpNumThreads },
  );
  return { runner, onnx, provider: "cpu", ...(o.cuda ? { cudaReason: cuda.reason, cudaDetail: cuda.detail } : {}) };
}
