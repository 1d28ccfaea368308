import { ForgeError } from "@trtforge/core";
import { ONNX_VARIANTS, type OnnxVariant, type OpenModelOptions } from "@trtforge/runtime";

/** Where a side runs: as serve-engine would (auto), or pinned to one backend. */
export const COMPARE_BACKENDS = ["auto", "tensorrt", "onnxruntime", "onnxruntime-cuda"] as const;
export type CompareBackend = (typeof COMPARE_BACKENDS)[number];

export interface SideSpec {
  agent: string;
  /** Undefined: the version `current` names when the comparison starts (the report records which). */
  version?: string;
  backend: CompareBackend;
  onnxVariant: OnnxVariant;
}

/** `<agent>@<version>` or `<agent>` (its current version). */
export function parseVersionRef(text: string, input: string): { agent: string; version?: string } {
  const at = text.indexOf("@");
  const agent = at < 0 ? text : text.slice(0, at);
  const version = at < 0 ? undefined : text.slice(at + 1);
  if (agent === "" || version === "") {
    throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not <agent>@<version> or <agent>`, {
      input,
      fix: "name a store version as trt-embeddings@build-0123456789abcdef, or an agent alone for its current version",
    });
  }
  return version === undefined ? { agent } : { agent, version };
}

export function parseBackend(text: string, input: string): CompareBackend {
  if ((COMPARE_BACKENDS as readonly string[]).includes(text)) return text as CompareBackend;
  throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not one of ${COMPARE_BACKENDS.join(", ")}`, {
    input,
    fix: `pass ${input} ${COMPARE_BACKENDS.join("|")}`,
  });
}

export function parseOnnxVariant(text: string, input: string): OnnxVariant {
  if ((ONNX_VARIANTS as readonly string[]).includes(text)) return text as OnnxVariant;
  throw new ForgeError("INVALID_OPTION", `${input} "${text}" is not one of ${ONNX_VARIANTS.join(", ")}`, {
    input,
    fix: `pass ${input} ${ONNX_VARIANTS.join("|")}`,
  });
}

/** The runtime's open options for a side: pinned backends refuse instead of falling back, so a figure is never silently about another backend. */
export function openOptionsOf(side: SideSpec): OpenModelOptions {
  const variant = { onnxVariant: side.onnxVariant };
  switch (side.backend) {
    case "auto":
      return variant;
    case "tensorrt":
      return { requireTensorRT: true };
    case "onnxruntime":
      return { ...variant, forceOnnxRuntime: true };
    case "onnxruntime-cuda":
      return { ...variant, forceOnnxRuntime: true, onnxCuda: true, requireGpu: true };
  }
}
