import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOnnxModel, mainGraph, serializeOnnxModel, withExtraOutputs, type OnnxModel } from "../src/index.js";
import { bertBatch, floats, runModel } from "./helpers/ort.js";
import { checkWithOnnx, pythonFixtures } from "./helpers/python.js";

let bert: OnnxModel;
let dir: string;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
  dir = await mkdtemp(join(tmpdir(), "trtforge-onnx-outputs-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("withExtraOutputs", () => {
  it("returns intermediate tensors from onnxruntime, with their element types, and the original outputs unchanged", async () => {
    const graph = mainGraph(bert);
    const firstOf = (op: string): string => graph.node.find((n) => n.op_type === op)!.output[0]!;
    const layerNorm = firstOf("LayerNormalization");
    const softmax = firstOf("Softmax");
    const shape = firstOf("Shape");
    const extended = withExtraOutputs(bert, [layerNorm, softmax, shape, "last_hidden_state"]);
    expect(mainGraph(extended).output.map((o) => o.name)).toEqual(["last_hidden_state", "logits", layerNorm, softmax, shape]);
    expect(mainGraph(bert).output).toHaveLength(2); // the argument is left as it was

    const batch = bertBatch();
    const plain = await runModel(serializeOnnxModel(bert), batch);
    const outputs = await runModel(serializeOnnxModel(extended), batch);
    expect(floats(outputs.last_hidden_state)).toEqual(floats(plain.last_hidden_state));
    expect(outputs[layerNorm]!.type).toBe("float32");
    expect(outputs[layerNorm]!.dims).toEqual([2, 8, 32]);
    // Softmax rows sum to 1 over the keys: [batch, heads, query, key].
    const probabilities = floats(outputs[softmax]);
    expect(outputs[softmax]!.dims).toEqual([2, 4, 8, 8]);
    expect(probabilities.slice(0, 8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // The padded keys of the second sequence get no attention.
    expect(probabilities[4 * 64 + 5]).toBeLessThan(1e-6);
    expect(outputs[shape]!.type).toBe("int64");
    // The exporter's value_info gives these outputs their shapes, which onnx's checker requires.
    const path = join(dir, "extended.onnx");
    await writeFile(path, serializeOnnxModel(extended));
    await checkWithOnnx(path);
  });

  it("names the tensor whose type it cannot tell", () => {
    expect(() => withExtraOutputs(bert, ["no_such_tensor"])).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT", input: "no_such_tensor" }),
    );
  });
});
