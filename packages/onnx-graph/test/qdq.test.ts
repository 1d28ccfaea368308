import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DataType,
  floatActivations,
  indexGraph,
  insertQdq,
  int64ToNumber,
  loadOnnxModel,
  mainGraph,
  quantizationSites,
  quantizeWeight,
  readFloat32,
  serializeOnnxModel,
  tensorDims,
  withExtraOutputs,
  type OnnxModel,
} from "../src/index.js";
import { floatTensor } from "./helpers/graphs.js";
import { bertBatch, cosine, floats, runModel } from "./helpers/ort.js";
import { checkWithOnnx, pythonFixtures } from "./helpers/python.js";

let bert: OnnxModel;
let dir: string;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
  dir = await mkdtemp(join(tmpdir(), "trtforge-onnx-qdq-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Symmetric int8 scales from one float run: max|x| / 127 per activation. */
async function calibrate(model: OnnxModel, tensors: string[]): Promise<Map<string, number>> {
  const outputs = await runModel(serializeOnnxModel(withExtraOutputs(model, tensors)), bertBatch());
  return new Map(tensors.map((t) => [t, floats(outputs[t]).reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127]));
}

describe("quantizationSites and floatActivations", () => {
  it("finds every MatMul and Gemm of a BERT export with its activations and per-channel weight axis", () => {
    const sites = quantizationSites(bert);
    const graph = mainGraph(bert);
    expect(sites).toHaveLength(graph.node.filter((n) => n.op_type === "MatMul" || n.op_type === "Gemm").length);
    const weighted = sites.filter((s) => s.weight !== undefined);
    // Per layer: Q, K, V, attention output and two FFN projections; then pooler and classifier.
    expect(weighted.filter((s) => s.opType === "MatMul")).toHaveLength(12);
    expect(weighted.filter((s) => s.opType === "Gemm")).toHaveLength(2);
    const index = indexGraph(graph);
    for (const site of weighted) {
      const dims = tensorDims(index.initializers.get(site.weight!.tensor)!);
      expect(site.activations).toHaveLength(1);
      // MatMul W is [K, N] (axis 1); torch's Linear as Gemm has transB=1 and W [N, K] (axis 0).
      expect(site.weight!.axis).toBe(site.opType === "Gemm" ? 0 : 1);
      expect(dims[site.weight!.axis!]).toBe(site.opType === "Gemm" ? dims[0] : dims[1]);
    }
    // Q·Kᵀ and P·V multiply two activations.
    const batched = sites.filter((s) => s.weight === undefined);
    expect(batched).toHaveLength(4);
    for (const site of batched) expect(site.activations.map((a) => a.inputIndex)).toEqual([0, 1]);
  });

  it("lists float tensors computed at run time, never initializers or integer tensors", () => {
    const activations = floatActivations(bert);
    const graph = mainGraph(bert);
    const initializers = new Set(graph.initializer.map((t) => t.name));
    expect(activations.filter((t) => initializers.has(t))).toEqual([]);
    expect(activations).toContain("last_hidden_state");
    expect(activations).not.toContain("input_ids");
    for (const n of graph.node.filter((n) => ["LayerNormalization", "Softmax", "Erf"].includes(n.op_type)))
      expect(activations).toContain(n.output[0]);
    for (const n of graph.node.filter((n) => ["Shape", "Range", "IsNaN"].includes(n.op_type)))
      expect(activations).not.toContain(n.output[0]);
  });
});

describe("insertQdq", () => {
  it("makes a Q/DQ model that passes the checker, runs in onnxruntime and stays close to float", async () => {
    const sites = quantizationSites(bert);
    const activations = [...new Set(sites.flatMap((s) => s.activations.map((a) => a.tensor)))];
    const scales = await calibrate(bert, activations);
    const result = insertQdq(bert, { activationScales: scales });
    expect(result.unquantizedSites).toEqual([]);
    expect(result.missingScales).toEqual([]);
    expect(result.quantizedSites).toHaveLength(sites.length);

    const graph = mainGraph(result.model);
    const index = indexGraph(graph);
    const nodesOf = (op: string) => graph.node.filter((n) => n.op_type === op);
    // One Q/DQ pair per activation, however many sites read it (Q, K and V share theirs).
    expect(nodesOf("QuantizeLinear")).toHaveLength(activations.length);
    expect(nodesOf("DequantizeLinear")).toHaveLength(activations.length + 14);
    for (const q of nodesOf("QuantizeLinear")) {
      const [, scale, zeroPoint] = q.input.map((t) => index.initializers.get(t));
      expect(scale!.data_type).toBe(DataType.FLOAT);
      expect(tensorDims(scale!)).toEqual([]);
      expect(readFloat32(scale!)[0]).toBeGreaterThan(0);
      expect(zeroPoint!.data_type).toBe(DataType.INT8);
      expect([...zeroPoint!.raw_data!]).toEqual([0]);
    }
    // Dequantized tensors feed only the GEMMs: residual Adds, LayerNormalization, Softmax and
    // the mask arithmetic read float tensors.
    for (const dq of nodesOf("DequantizeLinear")) {
      for (const use of index.consumers.get(dq.output[0]!) ?? []) expect(["MatMul", "Gemm"]).toContain(use.node.op_type);
    }
    for (const n of graph.node.filter((n) => ["Add", "LayerNormalization", "Softmax", "Where"].includes(n.op_type))) {
      for (const input of n.input) expect(index.producers.get(input)?.op_type).not.toBe("DequantizeLinear");
    }
    // Weights: int8 initializers read through per-channel DequantizeLinear; float copies are gone
    // except where another op still reads them (none here: the embeddings are read by Gather).
    for (const site of result.quantizedSites.filter((s) => s.weight !== undefined)) {
      expect(index.initializers.has(site.weight!.tensor)).toBe(false);
      const consumer = graph.node.find((n) => n.name === site.nodeName)!;
      const dq = index.producers.get(consumer.input[site.weight!.inputIndex]!)!;
      expect(dq.op_type).toBe("DequantizeLinear");
      const axis = int64ToNumber(dq.attribute.find((a) => a.name === "axis")!.i!);
      expect(axis).toBe(site.weight!.axis);
      const [weight, scale] = dq.input.map((t) => index.initializers.get(t)!);
      expect(weight!.data_type).toBe(DataType.INT8);
      expect(tensorDims(scale!)).toEqual([tensorDims(weight!)[axis]]);
    }

    const path = join(dir, "qdq.onnx");
    await writeFile(path, serializeOnnxModel(result.model));
    await checkWithOnnx(path);
    const batch = bertBatch();
    const reference = await runModel(serializeOnnxModel(bert), batch);
    const quantized = await runModel(path, batch);
    expect(cosine(floats(quantized.last_hidden_state), floats(reference.last_hidden_state))).toBeGreaterThan(0.99);
    expect(cosine(floats(quantized.logits), floats(reference.logits))).toBeGreaterThan(0.99);
    // Not a no-op: int8 rounding moves the outputs a little.
    expect(floats(quantized.last_hidden_state)).not.toEqual(floats(reference.last_hidden_state));
  });

  it("leaves sites without a scale in float and reports them", async () => {
    const sites = quantizationSites(bert);
    const embeddingsNorm = mainGraph(bert).node.find((n) => n.op_type === "LayerNormalization")!.output[0]!;
    const activations = [...new Set(sites.flatMap((s) => s.activations.map((a) => a.tensor)))].filter((t) => t !== embeddingsNorm);
    const result = insertQdq(bert, { activationScales: await calibrate(bert, activations) });
    expect(result.missingScales).toEqual([embeddingsNorm]);
    // Q, K and V of the first layer read the embeddings' LayerNorm.
    expect(result.unquantizedSites.map((s) => s.opType)).toEqual(["MatMul", "MatMul", "MatMul"]);
    const graph = mainGraph(result.model);
    const index = indexGraph(graph);
    for (const site of result.unquantizedSites) {
      const n = graph.node.find((x) => x.name === site.nodeName)!;
      expect(n.input[0]).toBe(embeddingsNorm);
      expect(index.initializers.get(n.input[1]!)?.data_type).toBe(DataType.FLOAT);
    }
    const path = join(dir, "partial.onnx");
    await writeFile(path, serializeOnnxModel(result.model));
    await checkWithOnnx(path);
  });

  it("refuses scales that are not positive", () => {
    const site = quantizationSites(bert)[0]!;
    const scales = new Map<string, number>(quantizationSites(bert).flatMap((s) => s.activations.map((a) => [a.tensor, 0.01] as const)));
    scales.set(site.activations[0]!.tensor, 0);
    expect(() => insertQdq(bert, { activationScales: scales })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT", input: site.activations[0]!.tensor }),
    );
  });
});

describe("quantizeWeight", () => {
  it("scales each output channel by its max |w| / 127 and guards an all-zero channel", () => {
    // [K=2, N=3]: channels are columns.
    const { values, scales } = quantizeWeight(floatTensor("w", [2, 3], [1, 0, -0.5, -2, 0, 0.25]), 1);
    expect([...scales]).toEqual([Math.fround(2 / 127), 1, Math.fround(0.5 / 127)]);
    expect([...values]).toEqual([64, 0, -127, -127, 0, 64]);
    const perTensor = quantizeWeight(floatTensor("v", [3], [0.5, -1, 0]), undefined);
    expect([...perTensor.scales]).toEqual([Math.fround(1 / 127)]);
    expect([...perTensor.values]).toEqual([64, -127, 0]);
  });
});
