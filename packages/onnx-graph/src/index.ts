export * from "./proto-types.js";
export { int64ToBigInt, int64ToNumber } from "./int64.js";
export { cloneModel, mainGraph, onnxModel, opsetVersion, type OnnxModel } from "./model.js";
export { createAttribute, createNode, createTensor, createTensorValueInfo, onnxSchema, type OnnxSchema } from "./schema.js";
export { locateOnnxSchema, type OnnxSchemaSource } from "./schema-source.js";
export { decodeOnnxModel, loadOnnxModel } from "./load.js";
export {
  EXTERNAL_DATA_ALIGNMENT,
  EXTERNAL_DATA_THRESHOLD_BYTES,
  PROTOBUF_LIMIT_BYTES,
  saveOnnxModel,
  serializeOnnxModel,
  type ExternalDataMode,
  type SaveOnnxOptions,
  type SavedOnnxModel,
} from "./save.js";
export { onnxSha256 } from "./hash.js";
export { float32View, readFloat32, tensorDims, tensorFromTypedArray, tensorRawBytes } from "./tensor-data.js";
// Half-float conversion is @trtforge/core's (the runtime decodes fp16 outputs with it too); re-exported for the graph edits' users.
export { float16BitsToFloat32, float32ToFloat16Bits, FLOAT16_MAX } from "@trtforge/core";
export { tensorElemTypes } from "./elem-types.js";
export { withExtraOutputs } from "./extra-outputs.js";
export {
  floatActivations,
  quantizationSites,
  type QuantizableOp,
  type QuantizationSite,
  type QuantizationWeight,
} from "./quantization-sites.js";
export { insertQdq, quantizeWeight, sitesWithScales, type InsertQdqOptions, type InsertQdqResult } from "./qdq.js";
export { smoothQuant, type SmoothedActivation, type SmoothingTarget, type SmoothQuantResult } from "./smooth-quant.js";
export { convertToFp16, DEFAULT_KEEP_FP32_OP_TYPES, type Fp16Options } from "./fp16.js";
export { findAttribute, hasSubgraph, intAttr, intAttribute, tensorAttr, tensorAttribute } from "./attributes.js";
export { indexGraph, isStandardDomain, NameAllocator, type GraphIndex, type TensorUse } from "./graph-index.js";
export { constantValue } from "./constant-value.js";
export { SAMPLE_TAPS_MIN_OPSET, withSampleTaps, type SampleTap, type SampleTapsModel, type SampleTapsOptions } from "./sample-taps.js";
export { buildModel, type ModelParts } from "./build-model.js";
