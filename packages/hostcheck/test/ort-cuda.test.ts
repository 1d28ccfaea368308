import { describe, expect, it } from "vitest";
import { probeCudaProvider } from "@trtforge/runtime";
import { hostDeps, probeOrtCudaProvider } from "../src/index.js";

describe("the ONNX Runtime CUDA provider probe (--check-only)", () => {
  it("says the provider is missing, why, and the script that installs it", () => {
    const probe = probeOrtCudaProvider({
      loadOrtCudaProvider: () => ({
        ok: false,
        reason: "ORT_CUDA_PROVIDER_MISSING",
        detail: "libonnxruntime_providers_cuda.so is not in /x",
      }),
    });
    expect(probe).toMatchObject({ id: "ort-cuda-provider", status: "missing" });
    expect(probe.detail).toBe("ORT_CUDA_PROVIDER_MISSING: libonnxruntime_providers_cuda.so is not in /x");
    expect(probe.fix).toContain("scripts/setup-ort-cuda.sh");
  });

  it("names a CUDA library the provider cannot find, and where such libraries come from", () => {
    const probe = probeOrtCudaProvider({
      loadOrtCudaProvider: () => ({
        ok: false,
        reason: "CUDA_LIBRARIES_MISSING",
        detail: "libonnxruntime_providers_cuda.so does not load: libcublasLt.so.13: cannot open shared object file",
      }),
    });
    expect(probe.status).toBe("missing");
    expect(probe.detail).toContain("libcublasLt.so.13");
    expect(probe.fix).toContain("LD_LIBRARY_PATH");
  });

  it("reports where the provider loads from when it does", () => {
    expect(probeOrtCudaProvider({ loadOrtCudaProvider: () => ({ ok: true, dir: "/ort/bin" }) })).toMatchObject({
      status: "ok",
      found: "/ort/bin",
    });
  });

  it("on this host, the real probe agrees with the runtime's file check", () => {
    const probe = probeOrtCudaProvider(hostDeps());
    if (!probeCudaProvider().ok)
      expect(probe).toMatchObject({ status: "missing", detail: expect.stringMatching(/^ORT_CUDA_PROVIDER_MISSING: /) });
    else expect(["ok", "missing", "error"]).toContain(probe.status);
  });
});
