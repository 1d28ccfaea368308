import { ForgeError } from "@trtforge/core";
import { indexGraph } from "./graph-index.js";
import { NameAllocator } from "./graph-index.js";
import { cloneModel, mainGraph, type OnnxModel } from "./model.js";
import { DataType, type NodeProto, type TensorProto } from "./proto-types.js";
import { createNode } from "./schema.js";
import { readFloat32, tensorDims, tensorFromTypedArray } from "./tensor-data.js";

/** One activation to smooth: its largest |x| per channel (last axis) from calibration, and how much of it moves into the weights. */
export interface SmoothingTarget {
  tensor: string;
  /** Largest |x| of each channel (the tensor's last axis) over the calibration rows. */
  channelAmax: Float32Array;
  /** 0: nothing moves; 0.5: SmoothQuant's default; 1: the activation's whole range goes to the weights. */
  alpha: number;
}

export interface SmoothedActivation {
  /** The tensor as the MatMuls read it now (the Mul's output), to quantize in place of `tensor`. */
  tensor: string;
  source: string;
  /** Per-channel factors s: the MatMuls read x / s, their weights' rows are multiplied by s. */
  factors: Float32Array;
  /** Largest |x / s| over the channels: the smoothed tensor's max-calibrated amax. */
  amax: number;
  /** The MatMuls whose weights absorbed s. */
  nodes: string[];
}

export interface SmoothQuantResult {
  model: OnnxModel;
  smoothed: SmoothedActivation[];
  /** Targets left as they were, and why (not read by weight MatMuls only, a shape that does not match). */
  skipped: { tensor: string; reason: string }[];
}

/** Keeps a channel that never fired, or a weight row of zeros, from turning s into 0 or infinity. */
const FLOOR = 1e-5;
const MAX_FACTOR = 1e4;

/**
 * SmoothQuant (Xiao et al., 2023): for an activation x that only feeds MatMuls x·W with constant
 * weights W [K, N], per input channel j, s_j = amax_j^α / max_i |W_ji|^(1−α); every W's row j is
 * multiplied by s_j and the MatMuls read x / s through one inserted Mul. x·W = (x / s)·(s W), so
 * the float model's outputs stay the same up to float rounding, while the outlier channels that
 * set x's per-tensor int8 scale move into the weights, which have per-channel scales. The Mul is a
 * pointwise op TensorRT fuses into the producer or the quantize; other readers of x (the
 * residual Add of a post-LayerNorm BERT) keep reading x unchanged, which is why the factors are
 * not folded into the LayerNorm itself.
 */
export function smoothQuant(model: OnnxModel, targets: readonly SmoothingTarget[]): SmoothQuantResult {
  const copy = cloneModel(model);
  const graph = mainGraph(copy);
  const index = indexGraph(graph);
  const names = new NameAllocator(graph);
  const smoothed: SmoothedActivation[] = [];
  const skipped: SmoothQuantResult["skipped"] = [];
  const inserted = new Map<string, NodeProto>();
  const newInitializers: TensorProto[] = [];
  for (const target of targets) {
    if (!(target.alpha >= 0 && target.alpha <= 1)) {
      throw new ForgeError("INVALID_ARGUMENT", `SmoothQuant alpha of ${target.tensor} must be in [0, 1], got ${target.alpha}`, {
        input: target.tensor,
        fix: "use an alpha such as 0.5",
      });
    }
    const uses = (index.consumers.get(target.tensor) ?? []).filter((u) => u.node.op_type === "MatMul" && u.inputIndex === 0);
    const weights = uses.map((u) => index.initializers.get(u.node.input[1]!));
    const channels = target.channelAmax.length;
    if (uses.length === 0) {
      skipped.push({ tensor: target.tensor, reason: "no MatMul reads it as its first input" });
      continue;
    }
    const bad = weights.findIndex(
      (w) => w === undefined || w.data_type !== DataType.FLOAT || tensorDims(w).length !== 2 || tensorDims(w)[0] !== channels,
    );
    if (bad >= 0) {
      skipped.push({ tensor: target.tensor, reason: `${uses[bad]!.node.name || "a MatMul"} has no float32 [${channels}, N] weight` });
      continue;
    }
    // Several uses of one weight (tied) would scale it twice.
    if (
      new Set(weights.map((w) => w!.name)).size !== weights.length ||
      weights.some((w) => (index.consumers.get(w!.name) ?? []).length !== 1)
    ) {
      skipped.push({ tensor: target.tensor, reason: "a weight is shared with another node" });
      continue;
    }
    const values = weights.map((w) => readFloat32(w!));
    const rowMax = new Float64Array(channels);
    for (const [k, w] of values.entries()) {
      const n = tensorDims(weights[k]!)[1]!;
      for (let j = 0; j < channels; j++) for (let i = 0; i < n; i++) rowMax[j] = Math.max(rowMax[j]!, Math.abs(w[j * n + i]!));
    }
    const factors = Float32Array.from({ length: channels }, (_, j) => {
      const s = Math.max(target.channelAmax[j]!, FLOOR) ** target.alpha / Math.max(rowMax[j]!, FLOOR) ** (1 - target.alpha);
      return Math.min(MAX_FACTOR, Math.max(1 / MAX_FACTOR, s));
    });
    for (const [k, w] of values.entries()) {
      const n = tensorDims(weights[k]!)[1]!;
      const scaled = new Float32Array(w.length);
      for (let j = 0; j < channels; j++) for (let i = 0; i < n; i++) scaled[j * n + i] = w[j * n + i]! * factors[j]!;
      const replacement = tensorFromTypedArray(weights[k]!.name, DataType.FLOAT, tensorDims(weights[k]!), scaled);
      graph.initializer[graph.initializer.indexOf(weights[k]!)] = replacement;
    }
    const inverseName = names.fresh(`${target.tensor}_smooth_inverse`);
    const output = names.fresh(`${target.tensor}_smoothed`);
    newInitializers.push(
      tensorFromTypedArray(
        inverseName,
        DataType.FLOAT,
        [channels],
        Float32Array.from(factors, (s) => 1 / s),
      ),
    );
    inserted.set(
      target.tensor,
      createNode({ op_type: "Mul", name: names.fresh(`${target.tensor}_Smooth`), input: [target.tensor, inverseName], output: [output] }),
    );
    for (const use of uses) use.node.input[0] = output;
    let amax = 0;
    for (let j = 0; j < channels; j++) amax = Math.max(amax, target.channelAmax[j]! / factors[j]!);
    smoothed.push({ tensor: output, source: target.tensor, factors, amax, nodes: uses.map((u) => u.node.name) });
  }
  const nodes: NodeProto[] = [];
  for (const input of graph.input) if (inserted.has(input.name)) nodes.push(inserted.get(input.name)!);
  for (const node of graph.node) {
    nodes.push(node);
    for (const out of node.output) if (inserted.has(out)) nodes.push(inserted.get(out)!);
  }
  graph.node = nodes;
  graph.initializer.push(...newInitializers);
  return { model: copy, smoothed, skipped };
}
