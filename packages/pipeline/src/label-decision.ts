import { ARGMAX, type LabelDecision } from "@trtforge/accuracy";
import { readModelConfig } from "@trtforge/export";

/** The sigmoid probability at which transformers' multi-label pipelines (and toxic-bert's card) say yes. */
export const MULTI_LABEL_THRESHOLD = 0.5;

export interface ClassifierHead {
  /** undefined: the head is a regressor, its outputs have no labels to agree on. */
  decision: LabelDecision | undefined;
  problemType: string;
}

/**
 * How the classifier's logits become labels, from config.json's problem_type: multi-label heads
 * (sigmoid per label) decide each label at the threshold, single-label heads (softmax) by argmax,
 * and a head without problem_type is single-label unless it has one output (transformers then
 * trains it as a regression). config.json has no field for the threshold: it is 0.5.
 */
export async function classifierHead(modelDir: string): Promise<ClassifierHead> {
  const config = await readModelConfig(modelDir);
  const labels = config.num_labels ?? (config.id2label ? Object.keys(config.id2label).length : undefined);
  const problemType = config.problem_type ?? (labels === 1 ? "regression" : "single_label_classification");
  if (problemType === "multi_label_classification")
    return { decision: { kind: "sigmoid-threshold", threshold: MULTI_LABEL_THRESHOLD }, problemType };
  if (problemType === "regression") return { decision: undefined, problemType };
  return { decision: ARGMAX, problemType };
}

/** The precision stage's label options for an export: classifier logits get label agreement as their head decides. */
export async function labelOptions(
  task: "feature-extraction" | "sequence-classification",
  outputs: readonly string[],
  modelDir: string,
): Promise<{ labelOutputs: string[]; labelDecision: LabelDecision | undefined }> {
  if (task !== "sequence-classification") return { labelOutputs: [], labelDecision: undefined };
  const head = await classifierHead(modelDir);
  return head.decision === undefined
    ? { labelOutputs: [], labelDecision: undefined }
    : { labelOutputs: outputs.filter((o) => o === "logits"), labelDecision: head.decision };
}
