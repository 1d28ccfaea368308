import { ForgeError } from "@trtforge/core";
import { intAttr } from "./attributes.js";
import { NameAllocator } from "./graph-index.js";
import { cloneModel, mainGraph, opsetVersion, type OnnxModel } from "./model.js";
import { DataType, type GraphProto, type NodeProto, type TensorProto } from "./proto-types.js";
import { quantizationSites, type QuantizationSite, type QuantizationWeight } from "./quantization-sites.js";
import { createNode } from "./schema.js";
import { elementCount, readFloat32, tensorDims, tensorFromTypedArray } from "./tensor-data.js";

/** Symmetric int8: [-127, 127], so that -x quantizes to -q and the zero point is 0. */
const INT8_MAX = 127;
/** Per-axis DequantizeLinear exists from opset 13 on. */
const MIN_OPSET = 13;

export interface InsertQdqOptions {
  /**
   * Per-tensor scale of each activation (amax / 127 for symmetric int8), by tensor name. Sites
   * with an activation missing here stay in float.
   */
  activationScales: ReadonlyMap<string, number>;
  /**
   * Sites (by node name) to keep in float even where their activations have scales: the MatMuls a
   * measured sensitivity chose. Their activations are still quantized for the other sites reading them.
   */
  floatNodes?: ReadonlySet<string>;
}

export interface InsertQdqResult {
  model: OnnxModel;
  /** Sites quantized (activations and weight). */
  quantizedSites: QuantizationSite[];
  /** Sites left in float because an activation input has no scale; report these. */
  unquantizedSites: QuantizationSite[];
  /** The activation tensors those sites lack a scale for, each once. */
  missingScales: string[];
}

function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface QuantizedWeight {
  values: Int8Array;
  scales: Float32Array;
}

/** Symmetric per-channel int8 along `axis` (per-tensor when undefined): scale = max|w| / 127. */
export function quantizeWeight(tensor: TensorProto, axis: number | undefined): QuantizedWeight {
  const values = readFloat32(tensor);
  const dims = tensorDims(tensor);
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? values.length : elementCount(dims.slice(axis + 1));
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new ForgeError("EXPORT_PROTOCOL", `weight ${tensor.name} holds a non-finite value (${v}) and cannot be quantized`, {
        fix: "check the checkpoint; a trained model's weights are finite",
      });
    }
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(v));
  }
  // An all-zero channel (or one whose scale underflows float32) gets scale 1: its values stay 0.
  const scales = Float32Array.from(maxAbs, (m) => {
    const scale = Math.fround(m / INT8_MAX);
    return scale > 0 ? scale : 1;
  });
  const quantized = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfToEven(values[i]! / scales[channelOf(i)]!);
    quantized[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, q));
  }
  return { values: quantized, scales };
}

function checkScale(tensor: string, scale: number): void {
  if (!Number.isFinite(scale) || scale <= 0 || Math.fround(scale) === 0) {
    throw new ForgeError("INVALID_ARGUMENT", `activation scale of ${tensor} must be a positive finite float32, got ${scale}`, {
      input: tensor,
      fix: "derive scales from calibration amax values > 0 (scale = amax / 127)",
    });
  }
}

/** Every tensor name read by a node of the graph or of its subgraphs (outer-scope references). */
function namesRead(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const node of graph.node) {
    for (const input of node.input) into.add(input);
    for (const attribute of node.attribute) {
      if (attribute.g) namesRead(attribute.g, into);
      for (const g of attribute.graphs) namesRead(g, into);
    }
  }
  for (const output of graph.output) into.add(output.name);
  return into;
}

/**
 * Explicit INT8 quantization in the form TensorRT 10 and 11 build from (and onnxruntime runs):
 * - each activation input of a MatMul/Gemm/Conv gets QuantizeLinear -> DequantizeLinear with a
 *   per-tensor float32 scale and an int8 zero point 0; one pair per tensor, shared by all the
 *   sites reading it, while every other reader (residual Add, LayerNormalization, Softmax, the
 *   attention-mask arithmetic) keeps reading the float tensor;
 * - each float32 weight initializer is stored as int8 with per-output-channel float32 scales and
 *   read through DequantizeLinear(axis), zero points 0;
 * - bias inputs (Gemm C, Conv B) stay float.
 * A site is quantized only when every activation input has a scale, so TensorRT never meets a
 * half-quantized GEMM; the others are returned for reporting.
 */
const hasScales = (site: QuantizationSite, scales: ReadonlyMap<string, number>) => site.activations.every((a) => scales.has(a.tensor));

/** The sites insertQdq quantizes with these scales: those whose every activation input has one. */
export function sitesWithScales(model: OnnxModel, scales: ReadonlyMap<string, number>): QuantizationSite[] {
  return quantizationSites(model).filter((site) => hasScales(site, scales));
}

export function insertQdq(model: OnnxModel, options: InsertQdqOptions): InsertQdqResult {
  const opset = opsetVersion(model);
  if (opset === undefined || opset < MIN_OPSET) {
    throw new ForgeError(
      "INVALID_ARGUMENT",
      `insertQdq needs ONNX opset ${MIN_OPSET} or later (per-channel DequantizeLinear); the model has ${opset ?? "none"}`,
      {
        fix: "export the model at opset 17 or later",
      },
    );
  }
  const scales = options.activationScales;
  const sites = quantizationSites(model);
  const floatNodes = options.floatNodes ?? new Set<string>();
  const quantizedSites = sites.filter((site) => hasScales(site, scales) && !floatNodes.has(site.nodeName));
  const unquantizedSites = sites.filter((site) => !quantizedSites.includes(site));
  const missingScales = [
    ...new Set(unquantizedSites.flatMap((site) => site.activations.map((a) => a.tensor).filter((t) => !scales.has(t)))),
  ];

  const copy = cloneModel(model);
  const graph = mainGraph(copy);
  const names = new NameAllocator(graph);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const newInitializers: TensorProto[] = [];
  /** Q/DQ nodes to place right after the producer of the tensor (or first, for graph inputs). */
  const qdqAfter = new Map<string, NodeProto[]>();
  const dequantizedActivation = new Map<string, string>();
  const weightNodes: NodeProto[] = [];
  const dequantizedWeight = new Map<string, string>();

  const activationDq = (tensor: string): string => {
    const existing = dequantizedActivation.get(tensor);
    if (existing !== undefined) return existing;
    const scale = scales.get(tensor)!;
    checkScale(tensor, scale);
    const scaleName = names.fresh(`${tensor}_scale`);
    const zeroPointName = names.fresh(`${tensor}_zero_point`);
    const quantized = names.fresh(`${tensor}_quantized`);
    const dequantized = names.fresh(`${tensor}_dequantized`);
    newInitializers.push(
      tensorFromTypedArray(scaleName, DataType.FLOAT, [], new Float32Array([scale])),
      tensorFromTypedArray(zeroPointName, DataType.INT8, [], new Int8Array([0])),
    );
    qdqAfter.set(tensor, [
      createNode({
        op_type: "QuantizeLinear",
        name: names.fresh(`${tensor}_QuantizeLinear`),
        input: [tensor, scaleName, zeroPointName],
        output: [quantized],
      }),
      createNode({
        op_type: "DequantizeLinear",
        name: names.fresh(`${tensor}_DequantizeLinear`),
        input: [quantized, scaleName, zeroPointName],
        output: [dequantized],
      }),
    ]);
    dequantizedActivation.set(tensor, dequantized);
    return dequantized;
  };

  const weightDq = (weight: QuantizationWeight): string => {
    const key = `${weight.tensor}\u0000${weight.axis ?? ""}`;
    const existing = dequantizedWeight.get(key);
    if (existing !== undefined) return existing;
    const tensor = initializers.get(weight.tensor)!;
    const { values, scales: channelScales } = quantizeWeight(tensor, weight.axis);
    const perChannel = weight.axis !== undefined;
    const scaleDims = perChannel ? [channelScales.length] : [];
    const int8Name = names.fresh(`${weight.tensor}_int8`);
    const scaleName = names.fresh(`${weight.tensor}_scale`);
    const zeroPointName = names.fresh(`${weight.tensor}_zero_point`);
    const dequantized = names.fresh(`${weight.tensor}_dequantized`);
    newInitializers.push(
      tensorFromTypedArray(int8Name, DataType.INT8, tensorDims(tensor), values),
      tensorFromTypedArray(scaleName, DataType.FLOAT, scaleDims, channelScales),
      tensorFromTypedArray(zeroPointName, DataType.INT8, scaleDims, new Int8Array(channelScales.length)),
    );
    weightNodes.push(
      createNode({
        op_type: "DequantizeLinear",
        name: names.fresh(`${weight.tensor}_DequantizeLinear`),
        input: [int8Name, scaleName, zeroPointName],
        output: [dequantized],
        attribute: perChannel ? [intAttr("axis", weight.axis!)] : [],
      }),
    );
    dequantizedWeight.set(key, dequantized);
    return dequantized;
  };

  for (const site of quantizedSites) {
    const node = graph.node[site.nodeIndex]!;
    for (const { tensor, inputIndex } of site.activations) node.input[inputIndex] = activationDq(tensor);
    if (site.weight !== undefined) node.input[site.weight.inputIndex] = weightDq(site.weight);
  }

  const nodes: NodeProto[] = [...weightNodes];
  for (const input of graph.input) nodes.push(...(qdqAfter.get(input.name) ?? []));
  for (const node of graph.node) {
    nodes.push(node);
    for (const output of node.output) nodes.push(...(qdqAfter.get(output) ?? []));
  }
  graph.node = nodes;

  // Drop float weights nothing reads any more (a tied embedding still read by Gather stays).
  const read = namesRead(graph);
  const graphInputs = new Set(graph.input.map((v) => v.name));
  const replaced = new Set(quantizedSites.flatMap((site) => (site.weight === undefined ? [] : [site.weight.tensor])));
  const stillNeeded = (t: TensorProto): boolean => !replaced.has(t.name) || read.has(t.name) || graphInputs.has(t.name);
  graph.initializer = [...graph.initializer.filter(stillNeeded), ...newInitializers];
  return { model: copy, quantizedSites, unquantizedSites, missingScales };
}
