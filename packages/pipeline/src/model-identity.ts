import { basename, dirname } from "node:path";
import { ForgeError } from "@trtforge/core";
import { engineAgentName } from "@trtforge/builder";
import { assertModelId } from "@trtforge/engine-format";
import { assertStoreName, modelIdFromRepoFolder } from "@trtforge/model-store";

/**
 * The model id a plain folder stands for when --model-id is not given: only a Hugging Face cache
 * snapshot (`models--<org>--<name>/snapshots/<revision>`) names it, as the exporter reads it too.
 * Any other folder gets no guessed id (config.json's _name_or_path is often a local path): the run
 * is refused before any work, because the id names the store agent of a classifier and keys the export.
 */
export function derivedModelId(folder: string): string | undefined {
  const snapshots = dirname(folder);
  if (basename(snapshots) !== "snapshots") return undefined;
  return modelIdFromRepoFolder(basename(dirname(snapshots)));
}

/** Settles and checks the model id and the task name before the first stage: both become store and file names. */
export function checkBuildNames(o: {
  folder: string;
  modelId: string | undefined;
  storeRef: string | undefined;
  taskName: string | undefined;
}): string {
  if (o.taskName !== undefined) assertStoreName("agent", engineAgentName(o.taskName), "--task-name");
  const modelId = o.modelId ?? derivedModelId(o.folder);
  if (modelId === undefined) {
    throw new ForgeError("INVALID_NAME", `the model id of ${o.folder} is not known: a plain folder does not name its model`, {
      input: "--model-id",
      fix: "pass --model-id <org/name> (and --revision <commit>), or build from a ModelStore version imported with --model-id (--model store:<agent>)",
    });
  }
  return assertModelId(modelId, o.storeRef ?? "--model-id");
}
