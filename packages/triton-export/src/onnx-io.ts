import { readFile } from "node:fs/promises";
import { ForgeError, fsError } from "@trtforge/core";
import { decodeOnnxModel, int64ToNumber, type ValueInfoProto } from "@trtforge/onnx-graph";

/** An input or output of the ONNX graph as Triton declares it: TYPE_* and full dims (-1 where dynamic). */
export interface TensorIo {
  name: string;
  dataType: string;
  dims: number[];
}

/** ONNX TensorProto.DataType → Triton's DataType (model_config.proto). */
const TRITON_TYPES: Record<number, string> = {
  1: "TYPE_FP32",
  2: "TYPE_UINT8",
  3: "TYPE_INT8",
  4: "TYPE_UINT16",
  5: "TYPE_INT16",
  6: "TYPE_INT32",
  7: "TYPE_INT64",
  8: "TYPE_STRING",
  9: "TYPE_BOOL",
  10: "TYPE_FP16",
  11: "TYPE_FP64",
  12: "TYPE_UINT32",
  13: "TYPE_UINT64",
  16: "TYPE_BF16",
};

function describe(info: ValueInfoProto, path: string): TensorIo {
  const tensor = info.type?.tensor_type;
  const dataType = tensor === undefined || tensor === null ? undefined : TRITON_TYPES[tensor.elem_type];
  if (tensor === undefined || tensor === null || dataType === undefined || tensor.shape === undefined || tensor.shape === null) {
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `${path}: graph input/output "${info.name}" is not a tensor of a type and shape Triton can declare`,
      {
        input: path,
        fix: "re-export the model with build-engine (its ONNX has typed, shaped int64 inputs and float outputs)",
      },
    );
  }
  // A symbolic (dim_param) or unknown dimension is variable: -1 in Triton's terms.
  const dims = tensor.shape.dim.map((d) => {
    if (d.dim_param !== undefined && d.dim_param !== "") return -1;
    const value = d.dim_value === undefined || d.dim_value === null ? 0 : int64ToNumber(d.dim_value);
    return value > 0 ? value : -1;
  });
  return { name: info.name, dataType, dims };
}

/** The graph's inputs (initializers excluded) and outputs, read from the file without loading external data. */
export async function readOnnxIo(path: string): Promise<{ inputs: TensorIo[]; outputs: TensorIo[]; externalFiles: string[] }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "reading the ONNX model");
  }
  const graph = decodeOnnxModel(bytes, path).proto.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  // Weights stored beside the model (external data) must travel with it, at the same relative paths.
  const externalFiles = new Set<string>();
  for (const tensor of graph.initializer) {
    for (const { key, value } of tensor.external_data) if (key === "location") externalFiles.add(value);
  }
  return {
    externalFiles: [...externalFiles].sort(),
    inputs: graph.input.filter((i) => !initializers.has(i.name)).map((i) => describe(i, path)),
    outputs: graph.output.map((o) => describe(o, path)),
  };
}
