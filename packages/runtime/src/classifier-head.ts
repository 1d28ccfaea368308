import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ForgeError } from "@trtforge/core";
import type { OutputTensor } from "./contract.js";

/** What a classifier's config.json says about its head. */
export interface ClassifierHead {
  /** id2label in class order. */
  labels: string[];
  multiLabel: boolean;
}

const ModelConfigSchema = z.looseObject({
  id2label: z.record(z.string(), z.string()).optional(),
  problem_type: z.string().nullable().optional(),
});

/** The head from config.json, or undefined when it names no labels (an embedding model). */
export async function readClassifierHead(configPath: string): Promise<ClassifierHead | undefined> {
  let config: z.infer<typeof ModelConfigSchema>;
  try {
    config = ModelConfigSchema.parse(JSON.parse(await readFile(configPath, "utf8")));
  } catch (err) {
    throw new ForgeError("MODEL_UNSERVABLE", `${configPath} is not a readable model config: ${(err as Error).message}`, {
      input: configPath,
      fix: "republish the model with its original config.json",
      cause: err,
    });
  }
  if (config.id2label === undefined) return undefined;
  const entries = Object.entries(config.id2label).map(([id, label]) => [Number(id), label] as const);
  const ids = entries.map(([id]) => id).sort((a, b) => a - b);
  if (ids.length === 0 || ids.some((id, i) => id !== i)) {
    throw new ForgeError("MODEL_UNSERVABLE", `${configPath}: id2label must map 0..n-1 to labels, it has ids ${ids.join(", ")}`, {
      input: configPath,
      fix: "fix id2label in the model's config.json and republish",
    });
  }
  const labels = ids.map((id) => entries.find(([i]) => i === id)![1]);
  return { labels, multiLabel: config.problem_type === "multi_label_classification" };
}

/**
 * label (BYTES [rows]) and probabilities (FP32 [rows, classes]) from logits: softmax for a
 * single-label head, an independent sigmoid per class for a multi-label one. The label is the most
 * probable class in both cases.
 */
export function applyHead(head: ClassifierHead, logits: OutputTensor): OutputTensor[] {
  if (logits.datatype !== "FP32" || logits.shape.length !== 2 || logits.shape[1] !== head.labels.length) {
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `logits ${logits.datatype} [${logits.shape.join(", ")}] do not match the ${head.labels.length} labels of id2label`,
      {
        input: "logits",
        fix: "republish the model with the config.json it was trained with",
      },
    );
  }
  const [rows, classes] = logits.shape as [number, number];
  const probabilities = new Float32Array(rows * classes);
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = logits.data.subarray(r * classes, (r + 1) * classes);
    if (head.multiLabel) {
      row.forEach((x, c) => (probabilities[r * classes + c] = 1 / (1 + Math.exp(-x))));
    } else {
      const max = Math.max(...row);
      let sum = 0;
      row.forEach((x, c) => {
        const e = Math.exp(x - max);
        probabilities[r * classes + c] = e;
        sum += e;
      });
      for (let i = r * classes; i < (r + 1) * classes; i++) probabilities[i] = probabilities[i]! / sum;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[r * classes + c]! > probabilities[r * classes + best]!) best = c;
    labels.push(head.labels[best]!);
  }
  return [
    { name: "label", datatype: "BYTES", shape: [rows], data: labels },
    { name: "probabilities", datatype: "FP32", shape: [rows, classes], data: probabilities },
  ];
}
