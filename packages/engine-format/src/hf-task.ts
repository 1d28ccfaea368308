/** What a model computes, as Hugging Face names the task; the exporter, the models config and the build accept these. */
export const HF_TASKS = ["feature-extraction", "sequence-classification"] as const;
export type HfTask = (typeof HF_TASKS)[number];

/** A requested task: one of HF_TASKS, or `auto` to take it from the model's config. */
export const HF_TASK_CHOICES = ["auto", ...HF_TASKS] as const;
export type HfTaskChoice = (typeof HF_TASK_CHOICES)[number];
