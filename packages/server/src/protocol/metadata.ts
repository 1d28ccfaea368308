import type { ModelEvidence, ServedModel } from "@trtforge/runtime";

export const SERVER_NAME = "trtforge";
/** Protocol extensions this server implements, as server metadata lists them. */
export const SERVER_EXTENSIONS = [
  "binary_tensor_data",
  "classification",
  "model_configuration",
  "model_repository",
  "statistics",
  "model_evidence",
] as const;

export const TEXT_INPUT_NAME = "text";

/** Which inputs go together, for clients reading metadata or config: "text | input_ids,attention_mask[,token_type_ids]". */
export function inputAlternatives(model: ServedModel): string {
  return `${TEXT_INPUT_NAME} | ${model.inputs.map((spec) => spec.name).join(",")}`;
}

export function serverMetadata(version: string): { name: string; version: string; extensions: string[] } {
  return { name: SERVER_NAME, version, extensions: [...SERVER_EXTENSIONS] };
}

/** Evidence as protocol `parameters`: flat string values, the fallback reason only when there is one. */
export function evidenceParameters(evidence: ModelEvidence): Record<string, string> {
  const { fallback_reason: fallbackReason, ...rest } = evidence;
  return { ...rest, ...(fallbackReason === undefined ? {} : { fallback_reason: fallbackReason }) };
}

export function modelMetadata(model: ServedModel): Record<string, unknown> {
  return {
    name: model.agent,
    versions: [model.version],
    platform: model.evidence.backend === "tensorrt" ? "tensorrt_plan" : "onnxruntime_onnx",
    // [-1, 1], one text per row, as the configuration's dims [1] say (a request may also send [rows]).
    // perf_analyzer needs a non-empty shape past the batch dimension to build a text input at all.
    inputs: [{ name: TEXT_INPUT_NAME, datatype: "BYTES", shape: [-1, 1] }, ...model.inputs],
    outputs: model.outputs,
    parameters: {
      ...evidenceParameters(model.evidence),
      kind: model.kind,
      // The protocol's metadata has no "optional": say here which inputs are alternatives (the
      // configuration extension marks every one optional).
      input_alternatives: inputAlternatives(model),
      max_batch_size: model.profile.batch.max,
      max_sequence_length: model.profile.sequence.max,
      ...(model.labels === undefined ? {} : { labels: model.labels.join(",") }),
    },
  };
}
