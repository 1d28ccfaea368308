import { beforeAll, describe, expect, it } from "vitest";
import {
  indexGraph,
  insertQdq,
  loadOnnxModel,
  mainGraph,
  readFloat32,
  serializeOnnxModel,
  smoothQuant,
  withExtraOutputs,
  type OnnxModel,
} from "../src/index.js";
import { bertBatch, cosine, floats, runModel } from "./helpers/ort.js";
import { pythonFixtures } from "./helpers/python.js";

let bert: OnnxModel;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
}, 600_000);

/** The LayerNorm outputs that feed weight MatMuls (Q, K, V and the first FFN projection of each layer). */
function layerNormInputs(model: OnnxModel): string[] {
  const graph = mainGraph(model);
  const index = indexGraph(graph);
  return graph.node
    .filter((n) => n.op_type === "LayerNormalization")
    .map((n) => n.output[0]!)
    .filter((t) => (index.consumers.get(t) ?? []).some((u) => u.node.op_type === "MatMul" && index.initializers.has(u.node.input[1]!)));
}

/** Largest |x| per channel (last axis) of each tensor over one run. */
async function channelAmax(model: OnnxModel, tensors: string[]): Promise<Map<string, Float32Array>> {
  const outputs = await runModel(serializeOnnxModel(withExtraOutputs(model, tensors)), bertBatch());
  return new Map(
    tensors.map((t) => {
      const values = floats(outputs[t]);
      const channels = outputs[t]!.dims.at(-1)!;
      const amax = new Float32Array(channels);
      values.forEach((v, i) => (amax[i % channels] = Math.max(amax[i % channels]!, Math.abs(v))));
      return [t, amax];
    }),
  );
}

describe("smoothQuant", () => {
  it("keeps the float model's outputs up to float rounding and moves channel outliers into the weights", async () => {
    const tensors = layerNormInputs(bert);
    expect(tensors.length).toBeGreaterThan(0);
    const amax = await channelAmax(bert, tensors);
    const result = smoothQuant(
      bert,
      tensors.map((tensor) => ({ tensor, channelAmax: amax.get(tensor)!, alpha: 0.5 })),
    );
    expect(result.skipped).toEqual([]);
    expect(result.smoothed.map((s) => s.source)).toEqual(tensors);
    const [before, after] = await Promise.all([
      runModel(serializeOnnxModel(bert), bertBatch()),
      runModel(serializeOnnxModel(result.model), bertBatch()),
    ]);
    for (const name of Object.keys(before)) {
      const [a, b] = [floats(before[name]), floats(after[name])];
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(worst, name).toBeLessThan(1e-4 * Math.max(1, scale));
    }
    for (const s of result.smoothed) {
      const source = amax.get(s.source)!;
      // The smoothed tensor's range is the channels' amax / s, flatter than the source's.
      const spread = (a: Float32Array) => Math.max(...a) / Math.min(...a.filter((v) => v > 0));
      const smoothedChannels = source.map((v, j) => v / s.factors[j]!);
      expect(s.amax).toBeCloseTo(Math.max(...smoothedChannels), 5);
      expect(spread(smoothedChannels)).toBeLessThan(spread(source));
    }
    // The residual path still reads the LayerNorm output itself: the factors are not folded into it.
    const index = indexGraph(mainGraph(result.model));
    for (const t of tensors) expect((index.consumers.get(t) ?? []).some((u) => u.node.op_type === "Add")).toBe(true);
  });

  it("scales each weight row j by s_j", async () => {
    const [tensor] = layerNormInputs(bert);
    const amax = (await channelAmax(bert, [tensor!])).get(tensor!)!;
    const result = smoothQuant(bert, [{ tensor: tensor!, channelAmax: amax, alpha: 0.5 }]);
    const smoothed = result.smoothed[0]!;
    const before = indexGraph(mainGraph(bert));
    const after = indexGraph(mainGraph(result.model));
    const node = mainGraph(result.model).node.find((n) => n.name === smoothed.nodes[0])!;
    const [w0, w1] = [readFloat32(before.initializers.get(node.input[1]!)!), readFloat32(after.initializers.get(node.input[1]!)!)];
    const n = w0.length / amax.length;
    for (const j of [0, 1, amax.length - 1]) expect(w1[j * n + 2]).toBeCloseTo(w0[j * n + 2]! * smoothed.factors[j]!, 5);
  });

  it("gives scales for a Q/DQ model of the smoothed MatMuls that stays close to float", async () => {
    const tensors = layerNormInputs(bert);
    const amax = await channelAmax(bert, tensors);
    const result = smoothQuant(
      bert,
      tensors.map((tensor) => ({ tensor, channelAmax: amax.get(tensor)!, alpha: 0.5 })),
    );
    const scales = new Map(result.smoothed.map((s) => [s.tensor, s.amax / 127]));
    const qdq = insertQdq(result.model, { activationScales: scales });
    expect(qdq.quantizedSites.length).toBe(result.smoothed.flatMap((s) => s.nodes).length);
    const [reference, quantized] = await Promise.all([
      runModel(serializeOnnxModel(bert), bertBatch()),
      runModel(serializeOnnxModel(qdq.model), bertBatch()),
    ]);
    const name = Object.keys(reference)[0]!;
    expect(cosine(floats(reference[name]), floats(quantized[name]))).toBeGreaterThan(0.99);
  });

  it("refuses an alpha outside [0, 1] and skips a tensor no weight MatMul reads", () => {
    const [tensor] = layerNormInputs(bert);
    expect(() => smoothQuant(bert, [{ tensor: tensor!, channelAmax: new Float32Array(4), alpha: 1.5 }])).toThrow(/alpha/);
    const result = smoothQuant(bert, [{ tensor: "input_ids", channelAmax: new Float32Array(4), alpha: 0.5 }]);
    expect(result.skipped).toEqual([{ tensor: "input_ids", reason: "no MatMul reads it as its first input" }]);
  });
});

describe("insertQdq floatNodes", () => {
  it("keeps the named sites in float while the others reading the same activation are quantized", () => {
    const tensors = layerNormInputs(bert);
    const graph = mainGraph(bert);
    const index = indexGraph(graph);
    const readers = (index.consumers.get(tensors[0]!) ?? []).filter((u) => u.node.op_type === "MatMul").map((u) => u.node.name);
    expect(readers.length).toBeGreaterThan(1);
    const scales = new Map([[tensors[0]!, 0.05]]);
    const all = insertQdq(bert, { activationScales: scales });
    const some = insertQdq(bert, { activationScales: scales, floatNodes: new Set([readers[0]!]) });
    expect(all.quantizedSites.map((s) => s.nodeName).sort()).toEqual([...readers].sort());
    expect(some.quantizedSites.map((s) => s.nodeName).sort()).toEqual(readers.slice(1).sort());
    expect(some.unquantizedSites.map((s) => s.nodeName)).toContain(readers[0]);
    const floatNode = mainGraph(some.model).node.find((n) => n.name === readers[0])!;
    expect(floatNode.input[0]).toBe(tensors[0]);
  });
});
