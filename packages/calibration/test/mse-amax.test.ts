import { buildModel, createNode, createTensorValueInfo, DataType, tensorFromTypedArray } from "@trtforge/onnx-graph";
import { describe, expect, it } from "vitest";
import { geluMatMulInputs, MSE_AMAX_FRACTIONS, mseChosenAmax, PROBABILITY_CLIPS, quantizationMse } from "../src/index.js";

/** Laplace(0, 1) at n evenly spaced quantiles: a long-tailed tensor with a known optimum clip. */
function laplace(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (i + 0.5) / n - 0.5;
    out[i] = -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}

describe("quantizationMse", () => {
  it("charges a value under half a step its own square (it rounds to 0), not the step²/12 of a uniform-error model", () => {
    // amax 1.27: step 0.01; 0.001 rounds to 0 and costs 1e-6, where step²/12 would be 8.3e-6.
    expect(quantizationMse([0.001], 1.27)).toBeCloseTo(1e-6, 12);
    // On the grid: no error; past amax: clipped to it.
    expect(quantizationMse([0.5, -0.25], 1.27)).toBeCloseTo(0, 12);
    expect(quantizationMse([3], 1.27)).toBeCloseTo((3 - 1.27) ** 2, 9);
  });
});

describe("mseChosenAmax", () => {
  it("clips a Laplace tensor at 0.85 of its max (9.8 of 11.5, ACIQ's 8-bit optimum is 9.89 b)", () => {
    const values = laplace(100_000);
    const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeCloseTo(Math.log(100_000), 3);
    const amax = mseChosenAmax(values, max);
    expect(amax / max).toBeCloseTo(0.85, 6);
    expect(quantizationMse(values, amax)).toBeLessThan(quantizationMse(values, max) * 0.85);
  });

  it("keeps the max of a uniform tensor (nothing to gain by clipping) and of an empty one", () => {
    const values = Float32Array.from({ length: 10_001 }, (_, i) => -1 + i / 5000);
    expect(mseChosenAmax(values, 1)).toBe(1);
    expect(mseChosenAmax(new Float32Array(0), 2)).toBe(2);
  });

  it("only picks among the given fractions of the max", () => {
    const amax = mseChosenAmax(laplace(20_000), 10, [1, 0.5]);
    expect([5, 10]).toContain(amax);
    expect(MSE_AMAX_FRACTIONS.at(-1)).toBe(1);
  });
});

describe("PROBABILITY_CLIPS", () => {
  it("tries the finer grid (0.7 and 0.35 were chosen for MiniLM's layers)", () => {
    expect([...PROBABILITY_CLIPS]).toEqual([1, 0.7, 0.5, 0.35, 0.25]);
  });
});

describe("geluMatMulInputs", () => {
  /** x → LayerNorm → ln; ln · W1 → h; GELU(h) as the exporters write it (h·0.5·(1 + erf(h/√2))) → g; g · W2; and a Gelu op's output · W3. */
  function ffn() {
    const f = (name: string, dims: number[], n: number) => tensorFromTypedArray(name, DataType.FLOAT, dims, new Float32Array(n).fill(0.5));
    return buildModel({
      nodes: [
        createNode({ op_type: "LayerNormalization", input: ["x", "gamma", "beta"], output: ["ln"], name: "ln" }),
        createNode({ op_type: "MatMul", input: ["ln", "w1"], output: ["h"], name: "ffn1" }),
        createNode({ op_type: "Div", input: ["h", "sqrt2"], output: ["hs"], name: "div" }),
        createNode({ op_type: "Erf", input: ["hs"], output: ["e"], name: "erf" }),
        createNode({ op_type: "Add", input: ["e", "one"], output: ["e1"], name: "add" }),
        createNode({ op_type: "Mul", input: ["h", "e1"], output: ["he"], name: "mul" }),
        createNode({ op_type: "Mul", input: ["he", "half"], output: ["g"], name: "gelu" }),
        createNode({ op_type: "MatMul", input: ["g", "w2"], output: ["y"], name: "ffn2" }),
        createNode({ op_type: "Gelu", input: ["y"], output: ["g2"], name: "gelu_op", domain: "" }),
        createNode({ op_type: "MatMul", input: ["g2", "w3"], output: ["z"], name: "ffn3" }),
        // A Mul with no Erf above it (a scaling) is no GELU.
        createNode({ op_type: "Mul", input: ["z", "half"], output: ["zs"], name: "scale" }),
        createNode({ op_type: "MatMul", input: ["zs", "w4"], output: ["out"], name: "proj" }),
      ],
      inputs: [createTensorValueInfo("x", DataType.FLOAT, [1, 4])],
      outputs: [createTensorValueInfo("out", DataType.FLOAT, [1, 4])],
      initializers: [
        f("gamma", [4], 4),
        f("beta", [4], 4),
        f("w1", [4, 8], 32),
        f("w2", [8, 4], 32),
        f("w3", [4, 4], 16),
        f("w4", [4, 4], 16),
        f("sqrt2", [], 1),
        f("one", [], 1),
        f("half", [], 1),
      ],
      opset: 20,
    });
  }

  it("finds the weight MatMul inputs a GELU writes (decomposed with Erf, or a Gelu op), not LayerNorm outputs or plain Muls", () => {
    expect(geluMatMulInputs(ffn()).sort()).toEqual(["g", "g2"]);
  });
});
