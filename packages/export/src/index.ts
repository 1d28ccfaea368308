export * from "./protocol.js";
export * from "./python-env.js";
export * from "./run-exporter.js";
export * from "./safetensors.js";
export * from "./tolerances.js";
export * from "./validate-onnx.js";
export * from "./export-model.js";
export * from "./cpu-serving.js";
