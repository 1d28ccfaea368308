import type { IoTensor, TrtDataType } from "../binding-types.js";
import type { FakeLayer } from "./options.js";

/** TensorRT 10.x "Format/Datatype" and 11.x "DataType" strings by dtype (11.x names beyond "Float" are assumptions). */
const FORMAT_TAG: Record<TrtDataType, string> = {
  fp32: "FP32",
  fp16: "FP16",
  int8: "Int8",
  int32: "Int32",
  bool: "Bool",
  uint8: "UInt8",
  fp8: "FP8",
  bf16: "BF16",
  int64: "Int64",
  int4: "Int4",
  fp4: "FP4",
  e8m0: "E8M0",
};
const DATA_TYPE_11: Record<TrtDataType, string> = {
  fp32: "Float",
  fp16: "Half",
  int8: "Int8",
  int32: "Int32",
  bool: "Bool",
  uint8: "UInt8",
  fp8: "FP8",
  bf16: "BFloat16",
  int64: "Int64",
  int4: "Int4",
  fp4: "FP4",
  e8m0: "E8M0",
};

/** The inspector's getEngineInformation(kJSON) in TensorRT's shape for the given schema. */
export function fakeInspectorJson(layers: FakeLayer[], io: IoTensor[], schema: 10 | 11): string {
  const firstInput = io.find((t) => t.mode === "input");
  const dims = firstInput?.shape ?? [-1];
  const tensor = (name: string, precision: TrtDataType): Record<string, unknown> =>
    schema === 10
      ? { Name: name, Location: "Device", Dimensions: dims, "Format/Datatype": `Row major linear ${FORMAT_TAG[precision]} format` }
      : {
          Name: name,
          Location: "Device",
          Dimensions: dims,
          Format: `Row major linear ${FORMAT_TAG[precision]} format (kLINEAR)`,
          DataType: DATA_TYPE_11[precision],
        };
  let previous = firstInput?.name ?? "input";
  const jsonLayers = layers.map((layer, i) => {
    const output = i === layers.length - 1 ? (io.find((t) => t.mode === "output")?.name ?? `${layer.name}_output`) : `${layer.name}_output`;
    const entry = {
      Name: layer.name,
      LayerType: layer.type ?? "CaskGemm",
      Inputs: [tensor(previous, layer.precision)],
      Outputs: [tensor(output, layer.precision)],
      ParameterType: layer.type ?? "CaskGemm",
      TacticName: `fake_${layer.precision}_kernel`,
      TacticValue: `0x${(i + 1).toString(16).padStart(16, "0")}`,
    };
    previous = output;
    return entry;
  });
  if (schema === 10) return JSON.stringify({ Layers: jsonLayers, Bindings: io.map((t) => t.name) });
  return JSON.stringify({
    Layers: jsonLayers,
    "I/O Tensors": io.map((t) => ({
      Name: t.name,
      IOMode: t.mode === "input" ? "Input" : "Output",
      DataType: DATA_TYPE_11[t.dtype],
      Dimensions: t.shape,
      Location: t.location === "host" ? "Host" : "Device",
      IsShapeInferenceIO: false,
      ...(t.profile
        ? {
            ProfileInfo: [
              {
                MinShape: t.profile.min,
                OptShape: t.profile.opt,
                MaxShape: t.profile.max,
                Format: `Row major linear ${FORMAT_TAG[t.dtype]} format (kLINEAR)`,
              },
            ],
          }
        : {}),
    })),
  });
}
