import type { OutputTensor, ServedModel } from "@trtforge/runtime";
import { badRequest } from "./protocol-error.js";

/** Outputs holding one score per class, [rows, classes], that the classification extension can rank. */
const CLASS_SCORE_OUTPUTS = new Set(["logits", "probabilities"]);

/**
 * Checks a requested output's `classification` parameter (Triton's classification extension,
 * `class_count` in tritonclient) before any work: it must be a positive integer, the model a
 * classifier, and the output one of its per-class scores. An embedding has no classes to rank.
 */
export function checkClassCount(model: ServedModel, outputName: string, classCount: unknown): number {
  if (typeof classCount !== "number" || !Number.isInteger(classCount) || classCount < 1) {
    throw badRequest(
      `output "${outputName}": parameter "classification" must be a positive integer (class count), got ${JSON.stringify(classCount)}`,
    );
  }
  if (model.kind !== "classification") {
    throw badRequest(
      `output "${outputName}": model "${model.agent}" is an embedding model; the classification extension (class_count) applies only to classifiers' logits or probabilities`,
    );
  }
  if (!CLASS_SCORE_OUTPUTS.has(outputName)) {
    throw badRequest(
      `output "${outputName}": classification (class_count) applies to "logits" or "probabilities" of model "${model.agent}", not to "${outputName}"`,
    );
  }
  return classCount;
}

/**
 * The top `classCount` classes of each row as Triton returns them: BYTES [rows, k], each
 * "score:index:label" (":label" only where the model has id2label), highest score first, the score
 * printed with six decimals as Triton's std::to_string does. k is at most the number of classes.
 */
export function classify(tensor: OutputTensor, classCount: number, labels: readonly string[] | undefined): OutputTensor {
  if (tensor.datatype !== "FP32" || tensor.shape.length !== 2) {
    throw badRequest(`output "${tensor.name}" is not a [rows, classes] FP32 tensor and cannot be classified`);
  }
  const [rows = 0, classes = 0] = tensor.shape;
  const k = Math.min(classCount, classes);
  const data: string[] = [];
  for (let row = 0; row < rows; row += 1) {
    const scores = Array.from(tensor.data.subarray(row * classes, (row + 1) * classes), (score, index) => ({ score, index }));
    scores.sort((a, b) => b.score - a.score || a.index - b.index);
    for (const { score, index } of scores.slice(0, k)) {
      const label = labels?.[index];
      data.push(`${score.toFixed(6)}:${index}${label === undefined ? "" : `:${label}`}`);
    }
  }
  return { name: tensor.name, datatype: "BYTES", shape: [rows, k], data };
}
