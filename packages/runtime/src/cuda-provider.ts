import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Why ONNX Runtime's CUDA provider did not serve a model on a GPU worker. Stable codes: logged once,
 * in model metadata and every response (`cuda_fallback_reason`), counted in the metrics.
 */
export const CUDA_FALLBACK_REASONS = [
  /** libonnxruntime_providers_cuda.so / _shared.so are not beside onnxruntime_binding.node (scripts/setup-ort-cuda.sh). */
  "ORT_CUDA_PROVIDER_MISSING",
  /** The provider is there but a CUDA library it links (cudart, cuBLAS, cuBLASLt, cuFFT, cuDNN) does not load. */
  "CUDA_LIBRARIES_MISSING",
  /** No CUDA device for the worker, or a driver too old for the provider's CUDA. */
  "CUDA_DEVICE_UNAVAILABLE",
  /** The GPU had no room for the session (weights, workspace) or for the warm-up batch. */
  "CUDA_OUT_OF_MEMORY",
  /** Anything else ONNX Runtime's CUDA provider refused (the detail says what). */
  "ORT_CUDA_FAILED",
] as const;
export type CudaFallbackReason = (typeof CUDA_FALLBACK_REASONS)[number];

/** The two libraries onnxruntime-node loads from its binding's folder when a session asks for "cuda". */
export const ORT_CUDA_PROVIDER_LIBRARIES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"] as const;

/** The folder of the installed onnxruntime-node's native binding (where it looks for provider libraries). */
export function ortBindingDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve("onnxruntime-node/package.json"));
    const dir = join(root, "bin", "napi-v6", process.platform, process.arch);
    return existsSync(join(dir, "onnxruntime_binding.node")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export type ProviderProbe = { ok: true; dir: string } | { ok: false; reason: CudaFallbackReason; detail: string };

/**
 * Whether the CUDA provider's libraries are where onnxruntime-node loads them from. Only a file
 * check: whether they load (their CUDA dependencies, the driver, the GPU) is known only once a session
 * asks for them, and classifyCudaError names what failed then.
 */
export function probeCudaProvider(bindingDir: string | undefined = ortBindingDir()): ProviderProbe {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return {
      ok: false,
      reason: "ORT_CUDA_PROVIDER_MISSING",
      detail: `onnxruntime-node has no CUDA provider for ${process.platform}-${process.arch}`,
    };
  }
  if (bindingDir === undefined) {
    return { ok: false, reason: "ORT_CUDA_PROVIDER_MISSING", detail: "onnxruntime-node's native binding was not found" };
  }
  const missing = ORT_CUDA_PROVIDER_LIBRARIES.filter((lib) => !existsSync(join(bindingDir, lib)));
  if (missing.length > 0) {
    return {
      ok: false,
      reason: "ORT_CUDA_PROVIDER_MISSING",
      detail: `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not in ${bindingDir} (install them with scripts/setup-ort-cuda.sh)`,
    };
  }
  return { ok: true, dir: bindingDir };
}

/**
 * The stable reason for an error ONNX Runtime gave while creating or running a CUDA session, from its
 * message (ONNX Runtime reports dlopen's and CUDA's own words: "libcublasLt.so.13: cannot open shared
 * object file", "CUDA failure 2: out of memory", "CUDA failure 100: no CUDA-capable device is detected").
 */
export function classifyCudaError(message: string): CudaFallbackReason {
  const m = message.toLowerCase();
  if (/out of memory|cudaerrormemoryallocation|cuda failure 2\b|cublas_status_alloc_failed|failed to allocate memory/.test(m)) {
    return "CUDA_OUT_OF_MEMORY";
  }
  if (
    /no cuda-capable device|cuda failure 100\b|cudaerrornodevice|invalid device ordinal|cuda failure 101\b|driver version is insufficient|cuda failure 35\b|cuda driver/.test(
      m,
    )
  ) {
    return "CUDA_DEVICE_UNAVAILABLE";
  }
  if (/libonnxruntime_providers_(cuda|shared)\.so[^:]*: cannot open shared object file/.test(m)) return "ORT_CUDA_PROVIDER_MISSING";
  if (
    /cannot open shared object file|error while loading shared libraries|lib(cudart|cublas|cublaslt|cufft|curand|cudnn|nvrtc)[^ ]*\.so/.test(
      m,
    )
  ) {
    return "CUDA_LIBRARIES_MISSING";
  }
  return "ORT_CUDA_FAILED";
}

export type ProviderLoad = { ok: true; dir: string } | { ok: false; reason: CudaFallbackReason; detail: string };

/**
 * Whether the provider libraries load in this process, and if not, which library is missing: ONNX
 * Runtime's own error says only "Failed to load shared library" (the dlopen text goes to its log), so
 * each library is opened here with process.dlopen, whose error is dlopen's own ("libcublasLt.so.13:
 * cannot open shared object file"). A library that loads is not a Node addon, so it ends in "did not
 * self-register": that is success here. ONNX Runtime loads the same files from the same folder next.
 */
export function diagnoseProviderLoad(bindingDir: string | undefined = ortBindingDir()): ProviderLoad {
  const probe = probeCudaProvider(bindingDir);
  if (!probe.ok) return probe;
  for (const lib of ORT_CUDA_PROVIDER_LIBRARIES) {
    const path = join(probe.dir, lib);
    try {
      process.dlopen({ exports: {} }, path);
    } catch (err) {
      const message = (err as Error).message;
      if (/self-register|did not self register|no module registration/i.test(message)) continue;
      return { ok: false, reason: classifyCudaError(message), detail: `${lib} does not load: ${message}` };
    }
  }
  return probe;
}
