import { join } from "node:path";
import { projectRoot } from "@trtforge/core";
import { formatEngineName, type Precision } from "@trtforge/engine-format";
import { locatedError } from "./located-error.js";
import { toModelSpec, type ModelSpec } from "./model-spec.js";
import { MODELS_SCHEMA_RULES, modelsFileSchema } from "./models-schema.js";
import { schemaError } from "./schema-issues.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";
import { locatePath } from "./yaml-position.js";

export interface ModelsConfig {
  /** The file the configuration was read from, as given. */
  path: string;
  models: ModelSpec[];
}

export const MODELS_CONFIG_FILE = "conf/models.yaml";

export function defaultModelsConfigPath(): string {
  return join(projectRoot(), MODELS_CONFIG_FILE);
}

/** Reads conf/models.yaml (or `path`), validates every key and returns the entries with defaults applied. */
export async function loadModelsConfig(path: string = defaultModelsConfigPath()): Promise<ModelsConfig> {
  const file = await readYamlFile(path, "reading models config");
  return modelsConfigFromYaml(file);
}

/** Validates an already parsed models file; split from the loader so it has no I/O. */
export function modelsConfigFromYaml(file: YamlFile): ModelsConfig {
  const parsed = modelsFileSchema.safeParse(file.data);
  if (!parsed.success) throw schemaError(file, parsed.error.issues, MODELS_SCHEMA_RULES);
  const { defaults = {}, models: entries } = parsed.data;
  assertUniqueTasks(
    file,
    entries.map((entry) => entry.task),
  );
  const models = entries.map((entry, index) => toModelSpec(file, entry, index, defaults));
  return { path: file.path, models };
}

/** Each task names its own engine files, so two entries with one task would overwrite each other. */
function assertUniqueTasks(file: YamlFile, tasks: readonly string[]): void {
  const firstIndex = new Map<string, number>();
  tasks.forEach((task, index) => {
    const first = firstIndex.get(task);
    if (first === undefined) {
      firstIndex.set(task, index);
      return;
    }
    const firstLine = locatePath(file, ["models", first, "task"]).line;
    throw locatedError(
      file,
      "CONFIG_INVALID",
      ["models", index, "task"],
      {
        problem: `is "${task}", already the task of models[${first}] at line ${firstLine}`,
        allowed: "a task name used by one model entry only",
        fix: `rename one of the two tasks (line ${firstLine} or this line): each task builds its own engine files`,
      },
      { details: { first_line: firstLine } },
    );
  });
}

/** The engine file name a model entry builds at `precision`. */
export function engineNameFor(model: ModelSpec, precision: Precision): string {
  return formatEngineName({
    task: model.taskName,
    modelId: model.modelId,
    revision: model.revision,
    trtVersion: model.trtVersion,
    precision,
  });
}
