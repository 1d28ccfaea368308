import { engineAgentName } from "@trtforge/builder";

/** The last part of a model id as a store-name slug: "unitary/toxic-bert" -> "toxic-bert". */
export function modelSlug(modelId: string): string {
  const last =
    modelId
      .split("/")
      .filter((p) => p.length > 0)
      .at(-1) ?? modelId;
  const slug = last
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return slug.length > 0 ? slug.slice(0, 100) : "model";
}

/**
 * The store agent of a build: `trt-<task name>` when a task name is given; otherwise embeddings share
 * `trt-embeddings` (one embedding space per deployment), and a classifier is named after its model, so
 * that two different classifiers never take turns as one agent's `current`.
 */
export function buildAgentName(
  taskName: string | undefined,
  task: "feature-extraction" | "sequence-classification",
  modelId: string,
): string {
  if (taskName !== undefined) return engineAgentName(taskName);
  return task === "sequence-classification" ? engineAgentName(modelSlug(modelId)) : engineAgentName("embeddings");
}
