import { ForgeError } from "@trtforge/core";
import { CPU_SERVING_ONNX, CPU_SERVING_RECORD, FP32_ONNX, GPU_SERVING_ONNX, QDQ_ONNX } from "@trtforge/engine-format";
import { cpuServingOnnx } from "./version-files.js";
import type { VerifiedVersion } from "./store-version.js";

/**
 * Which ONNX of a version the fallback runs: auto (on the CPU: CPU-serving, else Q/DQ int8, else fp32;
 * on ONNX Runtime's CUDA provider: the GPU-serving fp16, else fp32), or one named.
 */
export const ONNX_VARIANTS = ["auto", "fp32", "int8", "cpu", "gpu"] as const;
export type OnnxVariant = (typeof ONNX_VARIANTS)[number];

export interface OnnxChoice {
  variant: Exclude<OnnxVariant, "auto">;
  /** The file in the version. */
  file: string;
  /** What the evidence reports as precision. */
  precision: string;
  /**
   * Whether a row's outputs are the same whatever else runs in its batch. False for dynamically
   * quantized ONNX (activation scales from the whole batch, padding included): the model then runs
   * each row alone (runRowsAlone), so the same text always gets the same outputs.
   */
  rowsIndependent: boolean;
}

/**
 * "auto" takes the first present of: the CPU-serving ONNX (tuned for ONNX Runtime's CPU kernels by
 * the pipeline), the Q/DQ int8 ONNX (published only for int8 builds: the quantization the engine
 * itself carries, accuracy-gated by the pipeline, and measured faster than fp32 on the CPU), then
 * the fp32 export. Figures: docs/serving.md, benchmarks/onnx-choice.mjs.
 */
export async function chooseOnnx(version: VerifiedVersion, variant: OnnxVariant, device: "cpu" | "cuda" = "cpu"): Promise<OnnxChoice> {
  const missing = (what: string, file: string): ForgeError =>
    new ForgeError(
      "MODEL_UNSERVABLE",
      `onnxVariant "${variant}" asks for the ${what}, but version "${version.version}" of agent "${version.agent}" has no ${file}`,
      {
        input: `${version.path}/${file}`,
        fix: `pass onnxVariant "auto" (or another variant present in the version), or republish the model with build-engine`,
      },
    );
  if (variant === "gpu" || (variant === "auto" && device === "cuda")) {
    // fp16 inside, inputs and outputs as the export's; gated against PyTorch fp32 by the pipeline.
    if (version.files.includes(GPU_SERVING_ONNX))
      return { variant: "gpu", file: GPU_SERVING_ONNX, precision: "fp16", rowsIndependent: true };
    if (variant === "gpu") throw missing("GPU-serving ONNX", GPU_SERVING_ONNX);
    // The CPU forms are made for the CPU's kernels (dynamic int8): on CUDA the fp32 export serves next.
    if (!version.files.includes(FP32_ONNX)) throw missing("fp32 ONNX", FP32_ONNX);
    return { variant: "fp32", file: FP32_ONNX, precision: "fp32", rowsIndependent: true };
  }
  if (variant === "cpu" || variant === "auto") {
    const cpu = await cpuServingOnnx(version);
    if (cpu !== undefined) return { variant: "cpu", ...cpu };
    if (variant === "cpu") throw missing("CPU-serving ONNX", `${CPU_SERVING_ONNX} (or ${CPU_SERVING_RECORD} naming one)`);
  }
  if (variant === "int8" || variant === "auto") {
    if (version.files.includes(QDQ_ONNX)) return { variant: "int8", file: QDQ_ONNX, precision: "int8", rowsIndependent: true };
    if (variant === "int8") throw missing("Q/DQ int8 ONNX", QDQ_ONNX);
  }
  if (!version.files.includes(FP32_ONNX)) throw missing("fp32 ONNX", FP32_ONNX);
  return { variant: "fp32", file: FP32_ONNX, precision: "fp32", rowsIndependent: true };
}
