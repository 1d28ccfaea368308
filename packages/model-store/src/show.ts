import { buildFacts, type BuildFacts } from "./build-facts.js";
import { readCurrentState } from "./current.js";
import { requireManifest, storeFields, type Manifest } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { resolveModelFolder, type ResolvedModel } from "./resolve-model.js";
import { storeSettings, type StoreOptions, type StoreSettings } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { locateVersion, type LocatedVersion } from "./verify.js";
import { listAgentVersions } from "./versions.js";

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
  /** The version current names, when it is not this one ("none" when the agent has no usable current). */
  currentVersion: string;
  /** Kind, precision, TensorRT version and profile shapes of a build-engine version (empty for plain models). */
  build: BuildFacts;
  manifest: Manifest;
  createdAt?: string;
  /** Where the model files are, if the version holds a model. */
  model?: ResolvedModel;
}

/**
 * Without a version name: the current one; where the agent has no current yet (versions published
 * without being promoted, a legitimate state) the newest finalized version, shown as not current.
 */
async function currentOrNewest(paths: AgentPaths, settings: StoreSettings): Promise<LocatedVersion> {
  const state = await readCurrentState(paths);
  if (state.state !== "missing") return locateVersion(paths, undefined);
  const newest = (await listAgentVersions(paths, { includeStaging: false, settings })).versions.filter((v) => v.manifest === "ok").at(-1);
  if (newest === undefined) return locateVersion(paths, undefined);
  return { agent: paths.agent, version: newest.version, path: newest.path, layout: "versions" };
}

/** A version's manifest and where its model lives; a missing or unreadable manifest is an error. */
export async function showVersion(options: ShowOptions): Promise<VersionDetails> {
  const agent = assertStoreName("agent", options.agent);
  const version = options.version === undefined ? undefined : assertStoreName("version", options.version);
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const paths = new AgentPaths(settings.root, agent);
  const located = version === undefined ? await currentOrNewest(paths, settings) : await locateVersion(paths, version);
  const { manifest } = await requireManifest(located.path, `version "${located.version}" of agent "${agent}"`);
  const current = await readCurrentState(paths);
  const isCurrent = current.state === "ok" && current.current.layout === located.layout && current.current.version === located.version;
  const model = await resolveModelFolder({
    ...options,
    agent,
    version: located.layout === "versions" ? located.version : undefined,
    strict: false,
  });
  const createdAt = storeFields(manifest.metadata).createdAt;
  return {
    agent,
    version: located.version,
    path: located.path,
    layout: located.layout,
    isCurrent,
    currentVersion: current.state === "ok" ? current.current.version : "none",
    build: buildFacts(manifest.metadata),
    manifest,
    ...(createdAt === undefined ? {} : { createdAt: createdAt.toISOString() }),
    ...(model === undefined ? {} : { model }),
  };
}
