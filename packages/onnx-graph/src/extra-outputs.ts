import { ForgeError } from "@trtforge/core";
import { tensorElemTypes } from "./elem-types.js";
import { cloneModel, cloneValueInfo, mainGraph, type OnnxModel } from "./model.js";
import { createTensorValueInfo } from "./schema.js";

/**
 * A copy of the model that also outputs the named tensors, e.g. to read intermediate activations
 * for calibration. Each new output copies the tensor's value_info (type and shape) when there is
 * one, else it declares the element type only: onnxruntime runs that, onnx's checker wants a shape
 * on graph outputs. Names that already are graph outputs are kept once.
 */
export function withExtraOutputs(model: OnnxModel, names: Iterable<string>): OnnxModel {
  const types = tensorElemTypes(model);
  const copy = cloneModel(model);
  const graph = mainGraph(copy);
  const outputs = new Set(graph.output.map((o) => o.name));
  const declared = new Map(graph.value_info.filter((v) => v.type?.tensor_type).map((v) => [v.name, v]));
  for (const name of names) {
    if (outputs.has(name)) continue;
    const type = types.get(name);
    if (type === undefined) {
      throw new ForgeError("INVALID_ARGUMENT", `cannot add tensor ${JSON.stringify(name)} as an output: its element type is unknown`, {
        input: name,
        fix: "check the tensor name, or run onnx shape inference so that the model declares its type in value_info",
      });
    }
    // value_info's entry carries the shape too; a copy of it is the most precise output declaration.
    const info = declared.get(name);
    graph.output.push(info === undefined ? createTensorValueInfo(name, type) : cloneValueInfo(info));
    outputs.add(name);
  }
  return copy;
}
