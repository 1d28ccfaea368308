import { buildModel, createNode, createTensorValueInfo, DataType, intAttr, tensorAttr, tensorFromTypedArray } from "@trtforge/onnx-graph";
import { describe, expect, it } from "vitest";
import { FILL_MAGNITUDE, tensorsThatMayHoldFills } from "../src/index.js";

const node = (op_type: string, input: string[], output: string[], attribute = [] as ReturnType<typeof intAttr>[]) =>
  createNode({ op_type, input, output, name: output[0]!, attribute });
const scalar = (name: string, value: number) => tensorFromTypedArray(name, DataType.FLOAT, [], Float32Array.of(value));

/**
 * The masked-attention pattern of an exported BERT: mask → Where(mask, 0, float32-lowest) → bias;
 * scores + bias → Softmax → probabilities → MatMul. Besides it: a shape taken of the biased scores,
 * and a branch with no fill at all.
 */
function attentionModel() {
  return buildModel({
    nodes: [
      node("Where", ["mask", "zero", "lowest"], ["bias"]),
      node("MatMul", ["q", "k"], ["scores"]),
      node("Add", ["scores", "bias"], ["masked_scores"]),
      node("Softmax", ["masked_scores"], ["probabilities"], [intAttr("axis", -1)]),
      node("MatMul", ["probabilities", "v"], ["context"]),
      node("Shape", ["masked_scores"], ["scores_shape"]),
      node("Reshape", ["context", "scores_shape"], ["reshaped"]),
      node("Relu", ["q"], ["plain"]),
    ],
    inputs: [
      createTensorValueInfo("mask", DataType.BOOL, [4, 4]),
      ...["q", "k", "v"].map((n) => createTensorValueInfo(n, DataType.FLOAT, [4, 4])),
    ],
    outputs: [createTensorValueInfo("reshaped", DataType.FLOAT, [4, 4]), createTensorValueInfo("plain", DataType.FLOAT, [4, 4])],
    initializers: [scalar("zero", 0), scalar("lowest", -3.4028234663852886e38)],
  });
}

describe("tensorsThatMayHoldFills", () => {
  it("follows a fill constant through Where and Add, and stops at Softmax and at non-float tensors", () => {
    const tainted = tensorsThatMayHoldFills(attentionModel(), FILL_MAGNITUDE);
    expect([...tainted].sort()).toEqual(["bias", "lowest", "masked_scores"]);
  });

  it("names nothing in a model without fill constants, and counts infinities and NaN as fills", () => {
    const model = attentionModel();
    expect(tensorsThatMayHoldFills(model, 1e39).size).toBe(0);
    for (const value of [Number.NEGATIVE_INFINITY, Number.NaN]) {
      const withValue = buildModel({
        nodes: [node("Add", ["x", "c"], ["y"])],
        inputs: [createTensorValueInfo("x", DataType.FLOAT, [2])],
        outputs: [createTensorValueInfo("y", DataType.FLOAT, [2])],
        initializers: [tensorFromTypedArray("c", DataType.FLOAT, [2], Float32Array.of(0, value))],
      });
      expect(tensorsThatMayHoldFills(withValue, FILL_MAGNITUDE).has("y"), String(value)).toBe(true);
    }
  });

  it("finds a fill held by a Constant node", () => {
    const model = buildModel({
      nodes: [
        createNode({
          op_type: "Constant",
          input: [],
          output: ["fill"],
          name: "fill",
          attribute: [tensorAttr("value", scalar("t", -1e38))],
        }),
        node("Add", ["x", "fill"], ["y"]),
      ],
      inputs: [createTensorValueInfo("x", DataType.FLOAT, [2])],
      outputs: [createTensorValueInfo("y", DataType.FLOAT, [2])],
    });
    expect([...tensorsThatMayHoldFills(model, FILL_MAGNITUDE)].sort()).toEqual(["fill", "y"]);
  });
});
