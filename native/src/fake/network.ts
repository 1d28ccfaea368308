import type { BuildEngineOptions, IoTensor, NativeError, ParseErrorDetail, ShapeProfile, TrtDataType } from "../binding-types.js";
import type { FakeLayer } from "./options.js";
import { nativeError, shapeString } from "./values.js";

/** The encoder inputs the fake's network has when options.profile (not per-input profiles) is given. */
const ENCODER_INPUTS = ["input_ids", "attention_mask"];

/**
 * The per-input shapes of options.profile, as addOptimizationProfile in native/src/builder_config.cc
 * expands it: every dynamic input is [batch, sequence]; fixed dimensions stay fixed. A Failure for
 * a dynamic input of another rank.
 */
export function expandProfile(options: BuildEngineOptions, inputs: readonly IoTensor[]): ShapeProfile[] | NativeError {
  const profile = options.profile;
  if (profile === undefined || profile === null) return options.profiles ?? [];
  const specs: ShapeProfile[] = [];
  for (const input of inputs) {
    if (!input.shape.some((d) => d < 0)) continue;
    if (input.shape.length !== 2) {
      return nativeError(
        "TRT_BUILD_FAILED",
        `options.profile gives [batch, sequence] shapes but input ${input.name} is ${shapeString(input.shape)}; give options.profiles for such a network`,
      );
    }
    const at = (k: "min" | "opt" | "max") => input.shape.map((d, i) => (d >= 0 ? d : i === 0 ? profile.batch[k] : profile.sequence[k]));
    specs.push({ input: input.name, min: at("min"), opt: at("opt"), max: at("max") });
  }
  return specs;
}

/** What the fake "parses" from an ONNX it never reads: the I/O tensors and layers of the network. */
export function defaultIoTensors(options: BuildEngineOptions): IoTensor[] {
  const encoder: IoTensor[] = ENCODER_INPUTS.map((name) => ({ name, mode: "input", dtype: "int64", shape: [-1, -1], location: "device" }));
  const specs = options.profile ? (expandProfile(options, encoder) as ShapeProfile[]) : (options.profiles ?? []);
  const inputs: IoTensor[] = specs.map((p) => ({
    name: p.input,
    mode: "input",
    dtype: "int64",
    shape: p.min.map((d, i) => (d === p.max[i] ? d : -1)),
    location: "device",
    profile: { min: [...p.min], opt: [...p.opt], max: [...p.max] },
  }));
  return [...inputs, { name: "logits", mode: "output", dtype: "fp32", shape: [-1, 2], location: "device" }];
}

export function defaultLayers(options: BuildEngineOptions): FakeLayer[] {
  const p: TrtDataType = options.precision;
  return [
    { name: "Reformatting CopyNode for Input Tensor 0", type: "Reformat", precision: "fp32" },
    { name: "/encoder/layer.0/attention/self/query/MatMul", type: "CaskGemm", precision: p },
    { name: "/encoder/layer.0/attention/self/Softmax", type: "CaskSoftmax", precision: p === "int8" ? "fp16" : p },
    { name: "/encoder/layer.0/output/dense/MatMul", type: "CaskGemm", precision: p },
    { name: "/classifier/Gemm", type: "CaskGemm", precision: p === "int8" ? "fp16" : p },
  ];
}

/** A Failure from the profile checks of native/src/builder_config.cc, or undefined. */
export function checkProfilesAgainstInputs(options: BuildEngineOptions, io: IoTensor[]): NativeError | undefined {
  const inputs = io.filter((t) => t.mode === "input");
  const expanded = expandProfile(options, inputs);
  if (!Array.isArray(expanded)) return expanded;
  const specs = new Map(expanded.map((p) => [p.input, p]));
  for (const input of inputs) {
    const spec = specs.get(input.name);
    const dynamic = input.shape.some((d) => d < 0);
    if (spec === undefined) {
      if (dynamic) {
        return nativeError(
          "TRT_BUILD_FAILED",
          `input ${input.name} has dynamic dimensions ${shapeString(input.shape)} but options.profiles has no entry for it; give min/opt/max shapes for every dynamic input`,
        );
      }
      continue;
    }
    if (spec.min.length !== input.shape.length) {
      return nativeError(
        "TRT_BUILD_FAILED",
        `the profile for ${input.name} has rank ${spec.min.length} but the input is ${shapeString(input.shape)}`,
      );
    }
    for (let d = 0; d < input.shape.length; d += 1) {
      const fixed = input.shape[d]!;
      if (fixed >= 0 && (spec.min[d] !== fixed || spec.opt[d] !== fixed || spec.max[d] !== fixed)) {
        return nativeError(
          "TRT_BUILD_FAILED",
          `the profile for ${input.name} sets dimension ${d} but the ONNX fixes it to ${fixed} (input ${shapeString(input.shape)})`,
        );
      }
    }
  }
  const names = new Set(inputs.map((t) => t.name));
  for (const spec of expanded) {
    if (!names.has(spec.input)) {
      return nativeError(
        "TRT_BUILD_FAILED",
        `options.profiles names input ${spec.input}, which the network does not have; its inputs are: ${inputs.map((t) => `${t.name} ${shapeString(t.shape)}`).join(", ")}`,
      );
    }
  }
  return undefined;
}

export function describeParseError(e: ParseErrorDetail): string {
  let where = "";
  if (e.node >= 0) {
    where = `node ${e.node}`;
    if (e.nodeName !== "" || e.operator !== "") where += ` (${e.nodeName}${e.operator === "" ? "" : `, ${e.operator}`})`;
    where += ": ";
  }
  return `${where}[${e.errorCode}] ${e.message}`;
}
