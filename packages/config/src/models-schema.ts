import { assertModelId, HF_TASKS, PRECISIONS, PROFILE_LIMITS, TASK_PATTERN, TRT_VERSION_PATTERN } from "@trtforge/engine-format";
import { z } from "zod";
import type { KeyPath } from "./key-path.js";
import { rulesByKeyName, type FieldRule, type ForgeIssueParams, type SchemaRules } from "./schema-issues.js";

/** The largest batch a model entry may declare; TensorRT profiles beyond it are not exercised. */
export const MAX_BATCH_SIZE_LIMIT = PROFILE_LIMITS.maxBatchSize;
/** The longest sequence a model entry may declare. */
export const MAX_SEQ_LEN_LIMIT = PROFILE_LIMITS.seqLen;
export const MODEL_INPUTS = ["input_ids", "attention_mask", "token_type_ids"] as const;
/** ModelStore agent names become folder names, hence no dots or slashes. */
export const AGENT_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

const PRECISION_LIST = PRECISIONS.join(", ");

/** Descriptions and error codes per key; the descriptions also document the JSON Schema. */
export const MODELS_FIELD_RULES = {
  version: { code: "CONFIG_INVALID", allowed: "1 (the only format version)" },
  defaults: { code: "CONFIG_INVALID", allowed: "a mapping with any of trt_version, precisions, min_seq_len, opt_seq_len" },
  models: {
    code: "CONFIG_INVALID",
    allowed: "a non-empty list of model entries",
    element: {
      code: "CONFIG_INVALID",
      allowed: "a mapping with task, model_id, revision, hf_task, agent, max_batch_size, seq_len, inputs, outputs and optional keys",
    },
  },
  task: {
    code: "INVALID_NAME",
    allowed: "a lower-case identifier: a letter, then up to 63 letters, digits or _ (no dots, dashes, slashes or ..), unique in the file",
    fix: 'rename the task to such an identifier, e.g. "sentiment" or "news_bias"',
  },
  model_id: {
    code: "INVALID_NAME",
    allowed:
      'a Hugging Face id such as "sentence-transformers/all-MiniLM-L6-v2": at most one "/", letters, digits, ".", "_" and "-", no "--" or "..", no leading or trailing separator',
    fix: "copy the id (org/name) from the model's Hugging Face page",
  },
  revision: { code: "CONFIG_INVALID", allowed: "a non-empty string: the commit sha of the Hugging Face snapshot (or a tag)" },
  hf_task: { code: "CONFIG_INVALID", allowed: HF_TASKS.join(" or ") },
  agent: {
    code: "INVALID_NAME",
    allowed: "a ModelStore agent name: a lower-case letter, then up to 63 lower-case letters, digits, _ or - (no dots or slashes)",
    fix: 'use the agent\'s name as ModelStore knows it, e.g. "analyst" or "memory"',
  },
  max_batch_size: { code: "INVALID_LIMIT", allowed: `an integer from 1 to ${MAX_BATCH_SIZE_LIMIT}` },
  opt_batch_size: {
    code: "INVALID_LIMIT",
    allowed: "an integer from 1 to max_batch_size (default: max_batch_size / 2, rounded up)",
  },
  min_seq_len: { code: "INVALID_LIMIT", allowed: `an integer from 1 to ${MAX_SEQ_LEN_LIMIT}, at most opt_seq_len` },
  opt_seq_len: { code: "INVALID_LIMIT", allowed: `an integer from 1 to ${MAX_SEQ_LEN_LIMIT}, from min_seq_len to seq_len` },
  seq_len: { code: "INVALID_LIMIT", allowed: `an integer from 1 to ${MAX_SEQ_LEN_LIMIT}, at least opt_seq_len` },
  inputs: {
    code: "CONFIG_INVALID",
    allowed: `a non-empty list of distinct names from ${MODEL_INPUTS.join(", ")}, including input_ids`,
    element: { code: "CONFIG_INVALID", allowed: `one of ${MODEL_INPUTS.join(", ")}` },
  },
  outputs: {
    code: "CONFIG_INVALID",
    allowed: "a non-empty list of { name, dims } with distinct names",
    element: { code: "CONFIG_INVALID", allowed: "a mapping { name: <output tensor name>, dims: [<dimension>, ...] }" },
  },
  name: { code: "CONFIG_INVALID", allowed: "the output tensor's name, a non-empty string unique within the model" },
  dims: {
    code: "CONFIG_INVALID",
    allowed: 'a non-empty list of dimensions, each "batch", "seq" or a positive integer',
    element: { code: "CONFIG_INVALID", allowed: '"batch", "seq" or a positive integer' },
  },
  precisions: {
    code: "CONFIG_INVALID",
    allowed: `a non-empty list of distinct precisions from ${PRECISION_LIST}`,
    element: { code: "INVALID_PRECISION", allowed: `one of ${PRECISION_LIST}` },
  },
  trt_version: {
    code: "CONFIG_INVALID",
    allowed: 'a TensorRT version in quotes, major.minor[.patch[.build]], e.g. "10.16.0"',
  },
} as const satisfies Record<string, FieldRule>;

const rule = MODELS_FIELD_RULES;

function isModelId(value: string): boolean {
  try {
    assertModelId(value);
    return true;
  } catch {
    return false;
  }
}

/** Rejects a list that names the same thing twice, pointing at the repetition. */
function distinct<T>(keyOf: (item: T) => unknown, pathOf: (index: number) => PropertyKey[]) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Map<unknown, number>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else {
        const params: ForgeIssueParams = { forgeCode: "CONFIG_INVALID", fix: "remove the repeated entry" };
        ctx.addIssue({ code: "custom", message: `repeats entry [${first}]`, path: pathOf(index), params });
      }
    });
  };
}

const limit = (max: number, description: string) => z.int().min(1).max(max).describe(description);
const precisionList = z
  .array(z.enum(PRECISIONS).describe(rule.precisions.element.allowed))
  .min(1)
  .superRefine(
    distinct<string>(
      (p) => p,
      (i) => [i],
    ),
  )
  .describe(rule.precisions.allowed);
const trtVersion = z.string().regex(TRT_VERSION_PATTERN).describe(rule.trt_version.allowed);

const defaultsSchema = z
  .strictObject({
    trt_version: trtVersion.optional(),
    precisions: precisionList.optional(),
    min_seq_len: limit(MAX_SEQ_LEN_LIMIT, rule.min_seq_len.allowed).optional(),
    opt_seq_len: limit(MAX_SEQ_LEN_LIMIT, rule.opt_seq_len.allowed).optional(),
  })
  .describe("Values merged into every model entry that does not set them");

const outputSchema = z.strictObject({
  name: z.string().min(1).describe(rule.name.allowed),
  dims: z
    .array(z.union([z.enum(["batch", "seq"]), z.int().min(1)]).describe(rule.dims.element.allowed))
    .min(1)
    .describe(rule.dims.allowed),
});

const modelSchema = z.strictObject({
  task: z.string().regex(TASK_PATTERN).describe(rule.task.allowed),
  model_id: z.string().refine(isModelId, "not a valid Hugging Face model id").describe(rule.model_id.allowed),
  revision: z.string().min(1).describe(rule.revision.allowed),
  hf_task: z.enum(HF_TASKS).describe(rule.hf_task.allowed),
  agent: z.string().regex(AGENT_PATTERN).describe(rule.agent.allowed),
  max_batch_size: limit(MAX_BATCH_SIZE_LIMIT, rule.max_batch_size.allowed),
  opt_batch_size: limit(MAX_BATCH_SIZE_LIMIT, rule.opt_batch_size.allowed).optional(),
  min_seq_len: limit(MAX_SEQ_LEN_LIMIT, rule.min_seq_len.allowed).optional(),
  opt_seq_len: limit(MAX_SEQ_LEN_LIMIT, rule.opt_seq_len.allowed).optional(),
  seq_len: limit(MAX_SEQ_LEN_LIMIT, rule.seq_len.allowed),
  inputs: z
    .array(z.enum(MODEL_INPUTS).describe(rule.inputs.element.allowed))
    .min(1)
    .superRefine(
      distinct<string>(
        (input) => input,
        (i) => [i],
      ),
    )
    .refine((inputs) => inputs.includes("input_ids"), {
      message: "input_ids is not in the list",
      params: { fix: "add input_ids to the list" } satisfies ForgeIssueParams,
    })
    .describe(rule.inputs.allowed),
  outputs: z
    .array(outputSchema)
    .min(1)
    .superRefine(
      distinct<{ name: string }>(
        (output) => output.name,
        (i) => [i, "name"],
      ),
    )
    .describe(rule.outputs.allowed),
  precisions: precisionList.optional(),
  trt_version: trtVersion.optional(),
});

/** The shape of conf/models.yaml, before defaults are merged into the model entries. */
export const modelsFileSchema = z
  .strictObject({
    version: z.literal(1).describe(rule.version.allowed),
    defaults: defaultsSchema.optional(),
    models: z.array(modelSchema).min(1).describe(rule.models.allowed),
  })
  .meta({ title: "trtforge conf/models.yaml", description: "The build matrix: one entry per engine task" });

export type ModelsFile = z.infer<typeof modelsFileSchema>;
export type ModelEntry = ModelsFile["models"][number];
export type ModelDefaults = NonNullable<ModelsFile["defaults"]>;

const ROOT_RULE: FieldRule = {
  code: "CONFIG_INVALID",
  allowed: "a mapping with version, models and optional defaults",
  fix: 'start the file with "version: 1" and a models list; see docs/config.md',
};
const byKeyName = rulesByKeyName(MODELS_FIELD_RULES);

export const MODELS_SCHEMA_RULES: SchemaRules = {
  ruleFor: (path) => (path.length === 0 ? ROOT_RULE : byKeyName(path)),
  knownKeys(path: KeyPath): readonly string[] {
    if (path.length === 0) return Object.keys(modelsFileSchema.shape);
    if (path[0] === "defaults") return Object.keys(defaultsSchema.shape);
    if (path.length === 2) return Object.keys(modelSchema.shape);
    return Object.keys(outputSchema.shape);
  },
};

/** JSON Schema of conf/models.yaml, for editors and other tools. */
export function modelsConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(modelsFileSchema) as Record<string, unknown>;
}
