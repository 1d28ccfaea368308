import { ForgeError } from "@trtforge/core";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { maskPadding, OutputComparator, type OutputComparison } from "@trtforge/accuracy";
import { readSafetensors, type NamedTensor } from "./safetensors.js";
import type { Tolerance } from "./tolerances.js";

type CheckedOutput = OutputComparison & { passed: boolean };

/** The ONNX run at one full [batch, seq_len] shape against PyTorch at the same shape. */
export interface ShapeValidation {
  name: string;
  batch: number;
  seq_len: number;
  passed: boolean;
  outputs: CheckedOutput[];
}

export interface ValidationResult {
  passed: boolean;
  tolerance: Tolerance;
  /** On the reference samples (each batch padded to its longest sample). */
  outputs: CheckedOutput[];
  /** At every shape given (the build profile's min, opt and max): what was run, at what shape. */
  shapes: ShapeValidation[];
  seconds: number;
}

/** A reference computed at one full shape (the exporter's reference.<name>.safetensors). */
export interface ShapeReference {
  name: string;
  batch: number;
  seqLen: number;
  path: string;
}

export interface ValidateOptions {
  onnxPath: string;
  referencePath: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  tolerance: Tolerance;
  shapeReferences?: readonly ShapeReference[];
  batchSize?: number;
  onBatch?: (done: number, total: number) => void;
}

function rowSlice(t: NamedTensor, from: number, to: number): Tensor {
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const shape = [to - from, ...t.shape.slice(1)];
  return t.dtype === "int64"
    ? new Tensor("int64", t.data.subarray(from * row, to * row), shape)
    : new Tensor("float32", t.data.subarray(from * row, to * row), shape);
}

/**
 * Runs the ONNX model in ONNX Runtime on the inputs PyTorch saw and compares every output with
 * PyTorch's: max absolute difference and per-sample cosine. Over tolerance the result says
 * `passed: false`; the caller fails the build and prints the numbers.
 */
export async function validateOnnx(options: ValidateOptions): Promise<ValidationResult> {
  const started = performance.now();
  const reference = await readSafetensors(options.referencePath);
  const missing = [...options.inputNames, ...options.outputNames].filter((n) => !reference.has(n));
  if (missing.length > 0) {
    throw new ForgeError("EXPORT_PROTOCOL", `${options.referencePath} lacks tensors ${missing.join(", ")}`, {
      input: options.referencePath,
      fix: "export the model again",
    });
  }
  const samples = reference.get(options.inputNames[0]!)!.shape[0]!;
  const session = await InferenceSession.create(options.onnxPath, { graphOptimizationLevel: "all", intraOpNumThreads: 0 });
  const comparators = new Map(options.outputNames.map((n) => [n, new OutputComparator(n)]));
  const batchSize = options.batchSize ?? 16;
  try {
    for (let from = 0; from < samples; from += batchSize) {
      const to = Math.min(samples, from + batchSize);
      const feeds = Object.fromEntries(options.inputNames.map((n) => [n, rowSlice(reference.get(n)!, from, to)]));
      const results = await session.run(feeds, [...options.outputNames]);
      const mask = reference.get("attention_mask");
      for (const name of options.outputNames) {
        const expected = reference.get(name)!;
        const rowSize = expected.shape.slice(1).reduce((a, b) => a * b, 1);
        const candidate = maskPadding(
          results[name]!.data as Float32Array,
          results[name]!.dims,
          mask?.dtype === "int64" ? mask.data : undefined,
          from,
        );
        comparators.get(name)!.add(expected.data.subarray(from * rowSize, to * rowSize) as Float32Array, candidate, rowSize);
      }
      options.onBatch?.(to, samples);
    }
  } finally {
    await session.release();
  }
  const outputs = [...comparators.values()].map((c) => checked(c, options.tolerance));
  const shapes: ShapeValidation[] = [];
  for (const shape of options.shapeReferences ?? []) shapes.push(await validateShape(options, shape));
  return {
    passed: outputs.every((o) => o.passed) && shapes.every((s) => s.passed),
    tolerance: options.tolerance,
    outputs,
    shapes,
    seconds: (performance.now() - started) / 1000,
  };
}

function checked(c: OutputComparator, tolerance: Tolerance): CheckedOutput {
  const r = c.result();
  return { ...r, passed: r.max_abs_diff <= tolerance.maxAbsDiff && r.cosine_min >= tolerance.minCosine };
}

/** One run of the whole shape at once: the batch and sequence length are those the profile declares. */
async function validateShape(options: ValidateOptions, shape: ShapeReference): Promise<ShapeValidation> {
  const reference = await readSafetensors(shape.path);
  const missing = [...options.inputNames, ...options.outputNames].filter((n) => !reference.has(n));
  if (missing.length > 0) {
    throw new ForgeError("EXPORT_PROTOCOL", `${shape.path} lacks tensors ${missing.join(", ")}`, {
      input: shape.path,
      fix: "export the model again",
    });
  }
  for (const name of options.inputNames) {
    const dims = reference.get(name)!.shape;
    if (dims[0] !== shape.batch || dims[1] !== shape.seqLen) {
      throw new ForgeError(
        "EXPORT_PROTOCOL",
        `${shape.path}: ${name} has shape [${dims.join(", ")}], not the [${shape.batch}, ${shape.seqLen}] of shape ${shape.name}`,
        { input: shape.path, fix: "export the model again" },
      );
    }
  }
  const session = await InferenceSession.create(options.onnxPath, { graphOptimizationLevel: "all", intraOpNumThreads: 0 });
  const comparators = options.outputNames.map((n) => new OutputComparator(n));
  try {
    const feeds = Object.fromEntries(options.inputNames.map((n) => [n, rowSlice(reference.get(n)!, 0, shape.batch)]));
    const results = await session.run(feeds, [...options.outputNames]);
    options.outputNames.forEach((name, i) => {
      const expected = reference.get(name)!;
      const rowSize = expected.shape.slice(1).reduce((a, b) => a * b, 1);
      comparators[i]!.add(expected.data as Float32Array, results[name]!.data as Float32Array, rowSize);
    });
  } finally {
    await session.release();
  }
  const outputs = comparators.map((c) => checked(c, options.tolerance));
  return { name: shape.name, batch: shape.batch, seq_len: shape.seqLen, passed: outputs.every((o) => o.passed), outputs };
}
