/**
 * The files of a published build version besides the engine and its sidecar: what build-engine
 * writes and what the serving runtime looks for, named once for both.
 */
/** The fp32 ONNX export. */
export const FP32_ONNX = "model.onnx";
/** The Q/DQ int8 ONNX (int8 builds only). */
export const QDQ_ONNX = "model.qdq.onnx";
/** The ONNX tuned for ONNX Runtime's CPU kernels (fused, optionally dynamic int8). */
export const CPU_SERVING_ONNX = "model.cpu.onnx";
/** What was done to make CPU_SERVING_ONNX, for which ONNX Runtime, and how accurate it is. */
export const CPU_SERVING_RECORD = "cpu-serving.json";
/**
 * The folder of a published version that holds what serving needs besides the engine: the model's
 * tokenizer files and its config.json (id2label, problem_type), as from_pretrained() reads them.
 */
export const SERVING_FILES_DIR = "tokenizer";
/** The ONNX made for ONNX Runtime's CUDA provider: fused, fp16 inside, inputs and outputs as the export's. */
export const GPU_SERVING_ONNX = "model.gpu.onnx";
/** What was done to make GPU_SERVING_ONNX and how accurate it is against PyTorch fp32. */
export const GPU_SERVING_RECORD = "gpu-serving.json";
