import { buildModel, createNode, createTensorValueInfo, DataType, tensorFromTypedArray, type OnnxModel } from "@trtforge/onnx-graph";
import { Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { AbsHistogram } from "../src/abs-histogram.js";
import { createActivationReader } from "../src/activation-reader.js";
import { gaussian } from "./synthetic.js";

/** x [n] → scaled = x · 3 → out = scaled + 1: `scaled` is the calibrated activation. */
function scaleModel(): OnnxModel {
  return buildModel({
    nodes: [
      createNode({ op_type: "Mul", input: ["x", "three"], output: ["scaled"], name: "mul" }),
      createNode({ op_type: "Add", input: ["scaled", "one"], output: ["out"], name: "add" }),
    ],
    inputs: [createTensorValueInfo("x", DataType.FLOAT, ["n"])],
    outputs: [createTensorValueInfo("out", DataType.FLOAT, ["n"])],
    initializers: [
      tensorFromTypedArray("three", DataType.FLOAT, [], Float32Array.of(3)),
      tensorFromTypedArray("one", DataType.FLOAT, [], Float32Array.of(1)),
    ],
  });
}

const feeds = (x: Float32Array) => ({ x: new Tensor("float32", x, [x.length]) });

/** Three runs; the second holds a mask fill, a NaN and −inf, which the plain in-graph max cannot leave out. */
function runsWithFillsInTheSecond(): Float32Array[] {
  const second = gaussian(4000, 2, 2);
  second[10] = -3.4028234663852886e38;
  second[11] = Number.NaN;
  second[12] = Number.NEGATIVE_INFINITY;
  return [gaussian(4000, 1, 1), second, gaussian(4000, 3, 1.5)];
}

async function histogramOf(stride: number, runs: Float32Array[]) {
  const reader = await createActivationReader(scaleModel(), ["scaled"], { sampleStride: stride, intraOpThreads: 1 });
  const histograms = new Map([["scaled", new AbsHistogram()]]);
  try {
    for (const x of runs) await reader.run(feeds(x), histograms);
  } finally {
    await reader.release();
  }
  return { state: histograms.get("scaled")!.snapshot(), masked: [...reader.maskedTensors], rebuilds: reader.rebuilds };
}

describe("createActivationReader", () => {
  it("a sampled reader meets fills first in a later run, switches that tensor to a masked max, and ends with the exact max of the full reader", async () => {
    const runs = runsWithFillsInTheSecond();
    const full = await histogramOf(1, runs);
    const sampled = await histogramOf(7, runs);
    expect(full.masked).toEqual([]);
    expect(sampled.masked).toEqual(["scaled"]);
    expect(sampled.rebuilds).toBe(1);
    const finite = runs.flatMap((x) => Array.from(x)).filter((v) => Number.isFinite(v) && Math.abs(v) < 1e30);
    const expectedMax = Math.fround(3 * finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    expect(full.state.maxAbs).toBe(expectedMax);
    expect(sampled.state.maxAbs).toBe(expectedMax);
    expect(sampled.state.range).toBe(expectedMax);
    // Every 7th value of each run, starting at 0, 1, 2 in turn; the second run was counted once, after the rebuild.
    const sampledValues = runs.reduce((n, x, run) => n + Math.ceil((x.length - run) / 7), 0);
    expect(sampled.state.counted + sampled.state.fills + sampled.state.nan).toBe(sampledValues);
    expect(full.state).toMatchObject({ counted: 12_000 - 3, fills: 2, nan: 1 });
  });

  it("a sampled reader's histogram has the shape of the full one", async () => {
    const runs = [gaussian(70_000, 5, 1), gaussian(70_000, 6, 1)];
    const full = await histogramOf(1, runs);
    const sampled = await histogramOf(31, runs);
    expect(sampled.state.maxAbs).toBe(full.state.maxAbs);
    // Mass below each quarter of the range agrees within sampling noise (~4,500 values sampled).
    const share = (counts: Float64Array, upTo: number) =>
      counts.subarray(0, upTo).reduce((a, b) => a + b, 0) / counts.reduce((a, b) => a + b, 0);
    for (const upTo of [128, 256, 512, 1024])
      expect(Math.abs(share(sampled.state.counts, upTo) - share(full.state.counts, upTo)), String(upTo)).toBeLessThan(0.02);
  });
});
