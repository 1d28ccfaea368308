import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOnnxModel, mainGraph, serializeOnnxModel, withExtraOutputs, withSampleTaps, type OnnxModel } from "../src/index.js";
import { buildModel, FLOAT, floatTensor, node, value } from "./helpers/graphs.js";
import { bertBatch, bertFeeds, floats, runFeeds } from "./helpers/ort.js";
import { checkWithOnnx, pythonFixtures } from "./helpers/python.js";

const FILL = 1e30;

/** x [2, 3, 5] → scaled = x · 2 → out = scaled + 1; `scaled` is the tensor the tests tap. */
function scaleModel(opset = 18): OnnxModel {
  return buildModel({
    nodes: [node("Mul", ["x", "two"], ["scaled"]), node("Add", ["scaled", "one"], ["out"])],
    inputs: [value("x", FLOAT, [2, 3, 5])],
    outputs: [value("out", FLOAT, [2, 3, 5])],
    initializers: [floatTensor("two", [], [2]), floatTensor("one", [], [1])],
    opset,
  });
}

const run = (model: OnnxModel, feeds: Record<string, ort.Tensor>) => runFeeds(serializeOnnxModel(model), feeds);

const start = (n: number) => new ort.Tensor("int64", BigInt64Array.of(BigInt(n)), [1]);
const everyNth = (values: Float32Array, from: number, stride: number) => values.filter((_, i) => i >= from && (i - from) % stride === 0);

let bert: OnnxModel;
let dir: string;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
  dir = await mkdtemp(join(tmpdir(), "trtforge-sample-taps-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("withSampleTaps", () => {
  it("outputs every stride-th value of the flattened tensor from the start offset, and its exact max |x|", async () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => (i % 7) - 3 + i / 100);
    x[17] = -9.5; // the largest |x| sits off the sample of every start but one
    const tapped = withSampleTaps(scaleModel(), ["scaled"], { stride: 4, fillMagnitude: FILL });
    const [tap] = tapped.taps;
    expect(tap).toMatchObject({ tensor: "scaled", masked: false });
    const scaled = x.map((v) => v * 2);
    for (const from of [0, 1, 3]) {
      const outputs = await run(tapped.model, { x: new ort.Tensor("float32", x, [2, 3, 5]), [tapped.startInput]: start(from) });
      expect(floats(outputs[tap!.sampleOutput])).toEqual(everyNth(scaled, from, 4));
      expect(floats(outputs[tap!.maxAbsOutput])[0]).toBe(19);
      expect(floats(outputs.out)).toEqual(x.map((v) => v * 2 + 1));
    }
    // The model it was given is left as it was.
    expect(mainGraph(scaleModel()).output.map((o) => o.name)).toEqual(["out"]);
  });

  it("an unmasked max shows a NaN or a fill as such; a masked max leaves them out", async () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => i / 10 - 1);
    x[3] = -3.4028234663852886e38;
    x[8] = Number.NaN;
    x[9] = Number.NEGATIVE_INFINITY;
    const feeds = (model: ReturnType<typeof withSampleTaps>) => ({
      x: new ort.Tensor("float32", x, [2, 3, 5]),
      [model.startInput]: start(0),
    });
    const plain = withSampleTaps(scaleModel(), ["scaled"], { stride: 3, fillMagnitude: FILL });
    const plainMax = floats((await run(plain.model, feeds(plain)))[plain.taps[0]!.maxAbsOutput])[0]!;
    expect(plainMax >= FILL || Number.isNaN(plainMax)).toBe(true);

    const masked = withSampleTaps(scaleModel(), ["scaled"], { stride: 3, fillMagnitude: FILL, masked: new Set(["scaled"]) });
    expect(masked.taps[0]!.masked).toBe(true);
    const outputs = await run(masked.model, feeds(masked));
    // Largest |x| among the rest: x[29] = 1.9, doubled.
    expect(floats(outputs[masked.taps[0]!.maxAbsOutput])[0]).toBeCloseTo(3.8, 6);
    // The sample itself is untouched: fills and NaN are left for the histogram to count apart.
    const sample = floats(outputs[masked.taps[0]!.sampleOutput]);
    expect(sample[1]).toBe(Number.NEGATIVE_INFINITY); // x[3] · 2 overflows float32
    expect(sample.length).toBe(10);
  });

  it("on a BERT, samples the activations withExtraOutputs returns whole, passes onnx's checker and keeps the model's outputs", async () => {
    const graph = mainGraph(bert);
    const layerNorm = graph.node.find((n) => n.op_type === "LayerNormalization")!.output[0]!;
    const softmax = graph.node.find((n) => n.op_type === "Softmax")!.output[0]!;
    const tapped = withSampleTaps(bert, [layerNorm, softmax], { stride: 7, fillMagnitude: FILL });
    const feeds = bertFeeds(bertBatch());
    const whole = await run(withExtraOutputs(bert, [layerNorm, softmax]), feeds);
    const sampled = await run(tapped.model, { ...feeds, [tapped.startInput]: start(5) });
    expect(floats(sampled.last_hidden_state)).toEqual(floats(whole.last_hidden_state));
    for (const tap of tapped.taps) {
      const all = floats(whole[tap.tensor]);
      expect(floats(sampled[tap.sampleOutput])).toEqual(everyNth(all, 5, 7));
      expect(floats(sampled[tap.maxAbsOutput])[0]).toBe(all.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    }
    // Softmax is never negative: one reduction; LayerNorm needs both ends.
    const tapOps = (tensor: string) =>
      mainGraph(tapped.model)
        .node.filter((n) => n.output[0]!.startsWith(`${tensor}__trtforge_tap`))
        .map((n) => n.op_type);
    expect(tapOps(softmax)).toEqual(["Reshape", "Slice", "ReduceMax"]);
    expect(tapOps(layerNorm)).toEqual(["Reshape", "Slice", "ReduceMax", "ReduceMin", "Neg", "Max"]);
    const path = join(dir, "tapped.onnx");
    await writeFile(path, serializeOnnxModel(tapped.model));
    await checkWithOnnx(path);
  });

  it("refuses models older than opset 10 and strides below 1, naming the fix", () => {
    expect(() => withSampleTaps(scaleModel(9), ["scaled"], { stride: 4, fillMagnitude: FILL })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT", input: "model", fix: expect.stringContaining("stride of 1") }),
    );
    expect(() => withSampleTaps(scaleModel(), ["scaled"], { stride: 0, fillMagnitude: FILL })).toThrowError(
      expect.objectContaining({ code: "INVALID_LIMIT", input: "stride" }),
    );
  });
});
