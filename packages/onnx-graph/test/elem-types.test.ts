import { beforeAll, describe, expect, it } from "vitest";
import { cloneModel, DataType, loadOnnxModel, mainGraph, tensorElemTypes, type OnnxModel } from "../src/index.js";
import { buildModel, FLOAT, floatTensor, intAttr, node, value } from "./helpers/graphs.js";
import { pythonFixtures } from "./helpers/python.js";

let bert: OnnxModel;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
});

describe("tensorElemTypes", () => {
  it("derives, without value_info, the types the exporter declared for every tensor of a BERT export", () => {
    const declared = new Map(mainGraph(bert).value_info.map((v) => [v.name, v.type!.tensor_type!.elem_type]));
    expect(declared.size).toBeGreaterThan(100);
    const stripped = cloneModel(bert);
    mainGraph(stripped).value_info = [];
    const derived = tensorElemTypes(stripped);
    const mismatches = [...declared].filter(([name, type]) => derived.get(name) !== type);
    expect(mismatches).toEqual([]);
    // Every node output is typed, not only those with value_info.
    const untyped = mainGraph(bert)
      .node.flatMap((n) => n.output)
      .filter((o) => !derived.has(o));
    expect(untyped).toEqual([]);
    // The types the later stages rely on.
    expect(derived.get("input_ids")).toBe(DataType.INT64);
    expect(derived.get("last_hidden_state")).toBe(DataType.FLOAT);
    const graph = mainGraph(bert);
    const outputOf = (op: string): string[] => graph.node.filter((n) => n.op_type === op).map((n) => n.output[0]!);
    for (const t of outputOf("Shape")) expect(derived.get(t)).toBe(DataType.INT64);
    for (const t of outputOf("IsNaN")) expect(derived.get(t)).toBe(DataType.BOOL);
    for (const t of outputOf("Softmax")) expect(derived.get(t)).toBe(DataType.FLOAT);
    for (const t of outputOf("Range")) expect(derived.get(t)).toBe(DataType.INT64);
  });

  it("follows Cast, Where, ConstantOfShape and Constant, and leaves unknown ops out", () => {
    const model = buildModel({
      nodes: [
        node("Cast", ["mask"], ["mask_f"], { attribute: [intAttr("to", DataType.FLOAT16)] }),
        node("Shape", ["mask"], ["shape"]),
        node("ConstantOfShape", ["shape"], ["zeros"]),
        node("Equal", ["mask", "mask"], ["same"]),
        node("Where", ["same", "w", "zeros"], ["picked"]),
        node("Constant", [], ["k"], { attribute: [intAttr("value_int", 3)] }),
        node("Mystery", ["picked"], ["custom"], { domain: "com.example" }),
        node("Identity", ["custom"], ["after_custom"]),
      ],
      inputs: [value("mask", DataType.INT64)],
      outputs: [value("after_custom", FLOAT)],
      initializers: [floatTensor("w", [1], [1])],
    });
    // ConstantOfShape without value makes float32 zeros; Constant value_int is an int64 scalar.
    const types = tensorElemTypes(model);
    expect(Object.fromEntries(types)).toEqual({
      mask: DataType.INT64,
      after_custom: DataType.FLOAT,
      w: DataType.FLOAT,
      mask_f: DataType.FLOAT16,
      shape: DataType.INT64,
      zeros: DataType.FLOAT,
      same: DataType.BOOL,
      picked: DataType.FLOAT,
      k: DataType.INT64,
    });
    expect(types.has("custom")).toBe(false);
  });
});
