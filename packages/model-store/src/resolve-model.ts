import { join } from "node:path";
import { ForgeError, isForgeError } from "@trtforge/core";
import { pathKind } from "@trtforge/fs-kit";
import { assertModelId } from "@trtforge/engine-format";
import { hfRepoFolderName, modelIdFromRepoFolder, pickSnapshot, repoFolders } from "./hf-layout.js";
import { readManifest, storeFields } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { storeSettings, strictFromEnv, type StoreOptions } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { locateVersion } from "./verify.js";

export interface ResolveModelOptions extends StoreOptions {
  agent: string;
  /** Pick this model when the version holds several (HF cache layout), and check it is the one recorded. */
  modelId?: string;
  /** Default: the current version. */
  version?: string;
  /** Throw instead of returning undefined; default: STRICT_MODEL_STORE=1. */
  strict?: boolean;
}

export interface ResolvedModel {
  agent: string;
  version: string;
  versionPath: string;
  /** The folder to hand to from_pretrained() or the exporter. */
  folder: string;
  layout: "flat" | "hf-cache";
  modelId?: string;
  /** From the snapshot folder name, else from metadata.hf_revision. */
  revision?: string;
}

function notFound(message: string, input: string, fix: string): ForgeError {
  return new ForgeError("STORE_NOT_A_MODEL", message, { input, fix });
}

async function resolveIn(agent: string, version: string, versionPath: string, modelId: string | undefined): Promise<ResolvedModel> {
  const read = await readManifest(versionPath);
  const fields = read.state === "ok" ? storeFields(read.manifest.metadata) : {};
  const base = { agent, version, versionPath };
  const fromRepo = async (repo: string, id: string): Promise<ResolvedModel> => {
    const repoDir = join(versionPath, repo);
    const snapshot = await pickSnapshot(repoDir);
    if (snapshot !== undefined) return { ...base, folder: snapshot.dir, layout: "hf-cache", modelId: id, revision: snapshot.revision };
    // JustNewsAgent's loader falls back to the repo folder itself when it has no snapshots/.
    return {
      ...base,
      folder: repoDir,
      layout: "hf-cache",
      modelId: id,
      ...(fields.revision === undefined ? {} : { revision: fields.revision }),
    };
  };
  const flat = (await pathKind(join(versionPath, "config.json"))) === "file";
  const repos = await repoFolders(versionPath);
  if (modelId !== undefined) {
    const repo = hfRepoFolderName(modelId);
    if (repos.includes(repo)) return fromRepo(repo, modelId);
    if (flat && (fields.modelId === undefined || fields.modelId === modelId)) {
      return {
        ...base,
        folder: versionPath,
        layout: "flat",
        modelId,
        ...(fields.revision === undefined ? {} : { revision: fields.revision }),
      };
    }
    const holds = fields.modelId ?? repos.map(modelIdFromRepoFolder).join(", ");
    throw notFound(
      `version "${version}" of agent "${agent}" does not hold ${modelId}${holds ? ` (it holds ${holds})` : ""}`,
      versionPath,
      "check --model-id, or publish that model for this agent",
    );
  }
  if (flat) {
    return {
      ...base,
      folder: versionPath,
      layout: "flat",
      ...(fields.modelId === undefined ? {} : { modelId: fields.modelId }),
      ...(fields.revision === undefined ? {} : { revision: fields.revision }),
    };
  }
  if (repos.length === 1) return fromRepo(repos[0] as string, modelIdFromRepoFolder(repos[0] as string) as string);
  if (repos.length > 1) {
    throw notFound(
      `version "${version}" of agent "${agent}" holds several models (${repos.map(modelIdFromRepoFolder).join(", ")})`,
      versionPath,
      "pass --model-id to choose one",
    );
  }
  throw notFound(
    `version "${version}" of agent "${agent}" holds no model (no config.json, no models--org--name folder)`,
    versionPath,
    "import a model with model-store import-hf",
  );
}

/**
 * The model folder of an agent's current (or named) version, as JustNewsAgent's loaders find it:
 * `models--org--name/snapshots/<rev>/` inside the version, else the version folder itself. Returns
 * undefined when nothing usable is found, or throws when strict (STRICT_MODEL_STORE=1).
 */
export async function resolveModelFolder(options: ResolveModelOptions): Promise<ResolvedModel | undefined> {
  const strict = options.strict ?? strictFromEnv();
  const settings = storeSettings(options);
  try {
    const agent = assertStoreName("agent", options.agent);
    const version = options.version === undefined ? undefined : assertStoreName("version", options.version);
    const modelId = options.modelId === undefined ? undefined : assertModelId(options.modelId, "--model-id");
    await requireRoot(settings.root);
    const located = await locateVersion(new AgentPaths(settings.root, agent), version);
    return await resolveIn(agent, located.version, located.path, modelId);
  } catch (err) {
    if (strict || !isForgeError(err)) throw err;
    settings.log.debug({ agent: options.agent, reason: err.message }, "model not resolved from the store");
    return undefined;
  }
}
