import { fillShape, maskPadding, OutputComparator, type FullShape } from "@trtforge/accuracy";
import { serializeOnnxModel, type OnnxModel } from "@trtforge/onnx-graph";
import type { EncodedBatch, ModelInputName, ModelTokenizer } from "@trtforge/tokenizer";
import { InferenceSession } from "onnxruntime-node";
import { batchFeeds, checkModelInputs } from "./model-inputs.js";

export interface ShapeProbeOptions {
  /** The fp32 model every candidate is measured against. */
  reference: OnnxModel;
  /** Where the reference came from, named in input errors. */
  onnxPath: string;
  tokenizer: ModelTokenizer;
  /** Calibration articles (never the held-out ones): the shape's rows are joined from them. */
  texts: readonly string[];
  outputs: readonly string[];
  /** Each shape runs once per candidate; the candidate's cosine is the lowest over them. */
  shapes: readonly FullShape[];
}

/**
 * Profile shapes filled from calibration articles, with the fp32 outputs computed once: each
 * candidate then costs one ONNX Runtime run per shape. The plan's searches (sensitivity, probability clips)
 * compare dozens of candidates against the same reference; compareModels would rerun the reference
 * and a padded batch of the articles every time, three times the work.
 */
export class ShapeProbe {
  private constructor(
    private readonly batches: readonly EncodedBatch[],
    private readonly inputs: readonly ModelInputName[],
    private readonly outputs: readonly string[],
    private readonly references: readonly ReadonlyMap<string, { values: Float32Array; rowSize: number }>[],
  ) {}

  static async create(o: ShapeProbeOptions): Promise<ShapeProbe> {
    const inputs = checkModelInputs(o.reference, o.tokenizer, o.onnxPath);
    const batches = o.shapes.map((shape) => fillShape(o.tokenizer, o.texts, shape));
    const references = await runOutputs(serializeOnnxModel(o.reference), batches, inputs, o.outputs);
    return new ShapeProbe(batches, inputs, o.outputs, references);
  }

  /** The lowest per-output, per-shape mean cosine of the candidate against fp32 (compareModels' cosine_mean). */
  async cosine(candidate: Uint8Array): Promise<number> {
    const runs = await runOutputs(candidate, this.batches, this.inputs, this.outputs);
    let lowest = Infinity;
    for (const [index, outputs] of runs.entries()) {
      for (const name of this.outputs) {
        const reference = this.references[index]!.get(name)!;
        const comparator = new OutputComparator(name);
        comparator.add(reference.values, outputs.get(name)!.values, reference.rowSize);
        lowest = Math.min(lowest, comparator.result().cosine_mean);
      }
    }
    return lowest;
  }
}

async function runOutputs(
  model: Uint8Array,
  batches: readonly EncodedBatch[],
  inputs: readonly ModelInputName[],
  outputs: readonly string[],
): Promise<Map<string, { values: Float32Array; rowSize: number }>[]> {
  const session = await InferenceSession.create(model, { graphOptimizationLevel: "all" });
  try {
    const runs: Map<string, { values: Float32Array; rowSize: number }>[] = [];
    for (const batch of batches) {
      const result = await session.run(batchFeeds(batch, inputs), [...outputs]);
      runs.push(
        new Map(
          outputs.map((name) => {
            const tensor = result[name]!;
            const rowSize = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
            // Padded positions are zeroed on both sides, as compareModels does, so they never count.
            return [name, { values: maskPadding(tensor.data as Float32Array, tensor.dims, batch.attentionMask), rowSize }];
          }),
        ),
      );
    }
    return runs;
  } finally {
    await session.release();
  }
}
