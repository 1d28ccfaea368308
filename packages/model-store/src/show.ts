import { readCurrentState } from "./current.js";
import { requireManifest, storeFields, type Manifest } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { resolveModelFolder, type ResolvedModel } from "./resolve-model.js";
import { storeSettings, type StoreOptions } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { locateVersion } from "./verify.js";

export interface ShowOptions extends StoreOptions {
  agent: string;
  /** Default: the current version. */
  version?: string;
}

export interface VersionDetails {
  agent: string;
  version: string;
  path: string;
  layout: "versions" | "legacy" | "directory";
  isCurrent: boolean;
  manifest: Manifest;
  createdAt?: string;
  /** Where the model files are, if the version holds a model. */
  model?: ResolvedModel;
}

/** A version's manifest and where its model lives; a missing or unreadable manifest is an error. */
export async function showVersion(options: ShowOptions): Promise<VersionDetails> {
  const agent = assertStoreName("agent", options.agent);
  const version = options.version === undefined ? undefined : assertStoreName("version", options.version);
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const paths = new AgentPaths(settings.root, agent);
  const located = await locateVersion(paths, version);
  const { manifest } = await requireManifest(located.path, `version "${located.version}" of agent "${agent}"`);
  const current = await readCurrentState(paths);
  const isCurrent = current.state === "ok" && current.current.layout === located.layout && current.current.version === located.version;
  const model = await resolveModelFolder({ ...options, agent, version: located.layout === "versions" ? located.version : undefined, strict: false });
  const createdAt = storeFields(manifest.metadata).createdAt;
  return {
    agent,
    version: located.version,
    path: located.path,
    layout: located.layout,
    isCurrent,
    manifest,
    ...(createdAt === undefined ? {} : { createdAt: createdAt.toISOString() }),
    ...(model === undefined ? {} : { model }),
  };
}
