import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cloneModel,
  convertToFp16,
  DataType,
  DEFAULT_KEEP_FP32_OP_TYPES,
  float16BitsToFloat32,
  indexGraph,
  loadOnnxModel,
  mainGraph,
  readFloat32,
  serializeOnnxModel,
  tensorElemTypes,
  type OnnxModel,
  type TensorProto,
} from "../src/index.js";
import { buildModel, FLOAT, floatTensor, node, value } from "./helpers/graphs.js";
import { bertBatch, cosine, floats, runFeeds, runModel } from "./helpers/ort.js";
import { checkWithOnnx, pythonFixtures } from "./helpers/python.js";

let bert: OnnxModel;
let dir: string;
beforeAll(async () => {
  bert = await loadOnnxModel((await pythonFixtures()).tinyBert);
  dir = await mkdtemp(join(tmpdir(), "trtforge-onnx-fp16-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function float16Values(tensor: TensorProto): number[] {
  const raw = tensor.raw_data!;
  return Array.from({ length: raw.length / 2 }, (_, i) => float16BitsToFloat32(raw[2 * i]! | (raw[2 * i + 1]! << 8)));
}

async function checked(model: OnnxModel, name: string): Promise<Uint8Array> {
  const bytes = serializeOnnxModel(model);
  const path = join(dir, name);
  await writeFile(path, bytes);
  await checkWithOnnx(path);
  return bytes;
}

describe("convertToFp16 on a BERT export", () => {
  it("passes the checker, runs in onnxruntime with the same input and output types, and matches float32", async () => {
    const half = convertToFp16(bert);
    const bytes = await checked(half, "bert_fp16.onnx");
    const graph = mainGraph(half);
    expect(graph.input.map((v) => [v.name, v.type!.tensor_type!.elem_type])).toEqual(
      mainGraph(bert).input.map((v) => [v.name, v.type!.tensor_type!.elem_type]),
    );
    expect(graph.output.map((v) => [v.name, v.type!.tensor_type!.elem_type])).toEqual([
      ["last_hidden_state", DataType.FLOAT],
      ["logits", DataType.FLOAT],
    ]);

    const batch = bertBatch();
    const reference = await runModel(serializeOnnxModel(bert), batch);
    const converted = await runModel(bytes, batch);
    for (const name of ["last_hidden_state", "logits"]) {
      expect(converted[name]!.type).toBe("float32");
      const values = floats(converted[name]);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(cosine(values, floats(reference[name]))).toBeGreaterThan(0.999);
    }
  });

  it("computes in float16 except the keep list, with value_info agreeing with the graph", () => {
    const half = convertToFp16(bert);
    const graph = mainGraph(half);
    const types = tensorElemTypes(half);
    const index = indexGraph(graph);
    const keep = new Set(DEFAULT_KEEP_FP32_OP_TYPES);
    let float16Gemms = 0;
    for (const n of graph.node) {
      const dataTypes = n.input
        .slice(0, 2)
        .filter((t) => t !== "")
        .map((t) => types.get(t));
      if (keep.has(n.op_type)) expect(dataTypes[0]).toBe(DataType.FLOAT);
      if (n.op_type === "MatMul" || n.op_type === "Gemm") {
        expect(dataTypes).toEqual([DataType.FLOAT16, DataType.FLOAT16]);
        float16Gemms += 1;
      }
    }
    expect(float16Gemms).toBe(18);
    // LayerNormalization's scale and bias stay float32: nothing else reads them.
    for (const ln of graph.node.filter((n) => n.op_type === "LayerNormalization")) {
      expect(index.initializers.get(ln.input[1]!)!.data_type).toBe(DataType.FLOAT);
    }
    // Float32 results come only from kept ops, Casts, and the elementwise ops that continue a
    // float32 island (all their float inputs float32), like 1 + erf(x) and its * 0.5 in GELU.
    const islands = new Set(["Add", "Sub", "Mul", "Div"]);
    for (const n of graph.node.filter((n) => n.output.some((o) => types.get(o) === DataType.FLOAT))) {
      if (keep.has(n.op_type) || n.op_type === "Cast") continue;
      expect(islands).toContain(n.op_type);
      const floatInputs = n.input.filter((t) => types.get(t) === DataType.FLOAT || types.get(t) === DataType.FLOAT16);
      expect(floatInputs.map((t) => types.get(t))).toEqual(floatInputs.map(() => DataType.FLOAT));
    }
    // value_info was updated, not left stale: stripping it changes no type.
    const stripped = cloneModel(half);
    mainGraph(stripped).value_info = [];
    const derived = tensorElemTypes(stripped);
    const stale = graph.value_info.filter((v) => derived.get(v.name) !== v.type!.tensor_type!.elem_type).map((v) => v.name);
    expect(stale).toEqual([]);
  });

  it("clamps the attention mask's float32-min fill to -65504 instead of -inf", () => {
    const original = mainGraph(bert).initializer.filter((t) => t.data_type === DataType.FLOAT && readFloat32(t).some((v) => v < -1e38));
    expect(original.length).toBeGreaterThan(0);
    const half = mainGraph(convertToFp16(bert));
    for (const tensor of original) {
      const converted = half.initializer.find((t) => t.name === tensor.name)!;
      expect(converted.data_type).toBe(DataType.FLOAT16);
      expect(float16Values(converted)).toContain(-65504);
      expect(float16Values(converted).some((v) => !Number.isFinite(v))).toBe(false);
    }
  });
});

describe("convertToFp16 on a decomposed layer norm", () => {
  // x -> ReduceMean -> Sub -> Pow -> ReduceMean -> Add(eps) -> Sqrt -> Div -> Mul(gamma) -> Add(beta)
  //   -> MatMul(W) -> Add(mask bias with float32 min) -> Softmax
  const model = buildModel({
    nodes: [
      node("ReduceMean", ["x", "axes"], ["mean"]),
      node("Sub", ["x", "mean"], ["centered"]),
      node("Pow", ["centered", "two"], ["squared"]),
      node("ReduceMean", ["squared", "axes"], ["variance"]),
      node("Add", ["variance", "eps"], ["variance_eps"]),
      node("Sqrt", ["variance_eps"], ["std"]),
      node("Div", ["centered", "std"], ["normalized"]),
      node("Mul", ["normalized", "gamma"], ["scaled"]),
      node("Add", ["scaled", "beta"], ["ln"]),
      node("MatMul", ["ln", "w"], ["projected"]),
      node("Add", ["projected", "mask_bias"], ["scores"]),
      node("Softmax", ["scores"], ["probabilities"]),
    ],
    inputs: [value("x", FLOAT, ["batch", 4])],
    outputs: [value("probabilities", FLOAT, ["batch", 3]), value("projected", FLOAT, ["batch", 3])],
    initializers: [
      floatTensor("two", [], [2]),
      floatTensor("eps", [], [1e-12]),
      floatTensor("gamma", [4], [1, 0.5, 2, 1]),
      floatTensor("beta", [4], [0, 0.1, -0.1, 0]),
      floatTensor("w", [4, 3], [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9, -1, 1.1, 1.2]),
      floatTensor("mask_bias", [3], [0, 0, -3.4028234663852886e38]),
    ].concat(axesTensor()),
  });

  function axesTensor(): TensorProto[] {
    const t = floatTensor("axes", [1], [0]);
    t.data_type = DataType.INT64;
    t.raw_data = Buffer.from(new BigInt64Array([-1n]).buffer);
    return [t];
  }

  it("keeps the Add/Div/Mul/Add tail in float32 so that the 1e-12 epsilon survives, and runs", async () => {
    const half = convertToFp16(model);
    const types = tensorElemTypes(half);
    const graph = mainGraph(half);
    const op = (output: string) => graph.node.find((n) => n.output.includes(output))!;
    for (const tail of ["variance_eps", "normalized", "scaled", "ln"]) {
      expect(op(tail).input.map((t) => types.get(t))).toEqual([DataType.FLOAT, DataType.FLOAT]);
    }
    expect(types.get(op("centered").output[0]!)).toBe(DataType.FLOAT16);
    expect(readFloat32(graph.initializer.find((t) => t.name === "eps")!)[0]).toBeCloseTo(1e-12, 20);
    // The float input is cast once; the float16 MatMul result is cast back for its graph output.
    expect(graph.input[0]!.type!.tensor_type!.elem_type).toBe(DataType.FLOAT);
    expect(types.get(op("projected").input[0]!)).toBe(DataType.FLOAT16);
    expect(types.get("projected")).toBe(DataType.FLOAT);

    const bytes = await checked(half, "layer_norm_fp16.onnx");
    // Row 0 is constant: its variance is 0 and only epsilon keeps 0 / sqrt(var) from being NaN.
    const x = new ort.Tensor("float32", Float32Array.from([3, 3, 3, 3, 0.5, -1, 2, 0.25]), [2, 4]);
    const run = (m: Uint8Array) => runFeeds(m, { x });
    const reference = await run(serializeOnnxModel(model));
    const converted = await run(bytes);
    for (const name of ["probabilities", "projected"]) {
      const values = floats(converted[name]);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(cosine(values, floats(reference[name]))).toBeGreaterThan(0.999);
    }
    // The masked column gets no probability (the -65504 fill still masks).
    expect(floats(converted.probabilities)[2]).toBe(0);
  });

  it("honours a caller's keep list and refuses tensors of unknown type", () => {
    const everythingHalf = convertToFp16(model, { keepFp32OpTypes: ["Softmax"] });
    const types = tensorElemTypes(everythingHalf);
    const graph = mainGraph(everythingHalf);
    const sqrt = graph.node.find((n) => n.op_type === "Sqrt")!;
    expect(types.get(sqrt.input[0]!)).toBe(DataType.FLOAT16);

    const custom = buildModel({
      nodes: [node("Mystery", ["x"], ["y"], { domain: "com.example" })],
      inputs: [value("x", FLOAT)],
      outputs: [value("z", FLOAT)],
    });
    expect(() => convertToFp16(custom)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT", input: "y" }));
  });
});
