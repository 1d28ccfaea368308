import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ForgeError } from "@trtforge/core";
import { assertModelId } from "@trtforge/engine-format";
import { assertRevision, hfRepoFolderName, locateInHfCache } from "./hf-layout.js";
import { inspectHfModelFolder, type HfModelSummary } from "./hf-model.js";
import { parseUserMetadata } from "./manifest.js";
import { assertStoreName, defaultVersionName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { publishPlan, type FinalizeOptions, type PublishResult } from "./publish.js";
import { assertKeepCount } from "./retention.js";
import { storeSettings, type StoreOptions } from "./settings.js";
import { planFromDirectory } from "./stage-files.js";
import { isErrno } from "./store-errors.js";

/** Tool folders inside a model checkout that are not part of the model. */
const NOT_MODEL_FOLDERS: ReadonlySet<string> = new Set([".git", ".cache", ".huggingface"]);

export type ModelLayout = "flat" | "hf-cache";

export interface ImportHfOptions extends StoreOptions, FinalizeOptions {
  agent: string;
  /** A model folder, a cache repo folder (models--org--name) or a snapshot folder inside one. */
  modelDir: string;
  /** Recorded as metadata.model_id; derived from a cache path when not given. */
  modelId?: string;
  /** Recorded as metadata.hf_revision; derived from a snapshot path when not given. */
  revision?: string;
  /** Default: vYYYYMMDD-HHMMSS (UTC), like JustNewsAgent's publish script. */
  version?: string;
  /**
   * "flat" (default): the model files at the top of the version, where JustNewsAgent's loaders fall
   * back to. "hf-cache": under models--org--name/snapshots/<rev>/, where they look first.
   */
  layout?: ModelLayout;
}

export interface ImportHfResult extends PublishResult {
  modelId?: string;
  revision?: string;
  layout: ModelLayout;
  model: HfModelSummary;
}

/** Imports a Hugging Face model folder as a new version, recording model id and revision. */
export async function importHfModel(options: ImportHfOptions): Promise<ImportHfResult> {
  const agent = assertStoreName("agent", options.agent);
  const version = assertStoreName("version", options.version ?? defaultVersionName());
  const userMetadata = parseUserMetadata(options.metadata);
  if (options.keep !== undefined) assertKeepCount(options.keep, "keep");
  const layout = options.layout ?? "flat";
  const given = resolve(options.modelDir);
  try {
    await stat(given);
  } catch (err) {
    if (isErrno(err, "ENOENT"))
      throw new ForgeError("FILE_NOT_FOUND", `the model folder ${given} does not exist`, { input: given, fix: "check --model" });
    throw err;
  }
  const located = await locateInHfCache(given);
  const modelId = options.modelId === undefined ? located.modelId : assertModelId(options.modelId, "--model-id");
  const revision = options.revision === undefined ? located.revision : assertRevision(options.revision);
  const model = await inspectHfModelFolder(located.folder);
  let plan = await planFromDirectory(located.folder, { skipDirNames: NOT_MODEL_FOLDERS });
  if (layout === "hf-cache") {
    if (modelId === undefined || revision === undefined) {
      throw new ForgeError("INVALID_OPTION", "--layout hf-cache needs the model id and the revision", {
        input: "--layout",
        fix: "pass --model-id and --revision (or import from a models--org--name/snapshots/<rev> folder)",
      });
    }
    const prefix = `${hfRepoFolderName(modelId)}/snapshots/${revision}/`;
    plan = { files: plan.files.map((f) => ({ ...f, relPath: prefix + f.relPath })) };
  }
  const settings = storeSettings(options);
  if (modelId === undefined)
    settings.log.warn(
      { folder: located.folder },
      "no --model-id given and none derivable from the path; metadata.model_id is not recorded",
    );
  const metadata: Record<string, unknown> = {
    ...userMetadata,
    source: "import-hf",
    source_path: located.folder,
    ...(modelId === undefined ? {} : { model_id: modelId }),
    ...(revision === undefined ? {} : { hf_revision: revision }),
    ...(model.modelType === undefined ? {} : { model_type: model.modelType }),
    ...(model.architectures === undefined ? {} : { architectures: model.architectures }),
    weights: model.weightFiles,
    layout,
  };
  const published = await publishPlan({ settings, paths: new AgentPaths(settings.root, agent), cleanedStaging: [] }, version, plan, {
    ...options,
    metadata,
  });
  return {
    ...published,
    ...(modelId === undefined ? {} : { modelId }),
    ...(revision === undefined ? {} : { revision }),
    layout,
    model,
  };
}
