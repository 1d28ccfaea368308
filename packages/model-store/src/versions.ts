import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { buildFacts, type BuildFacts } from "./build-facts.js";
import { compareCodePoints } from "@trtforge/fs-kit";
import { agentNotFound, readCurrentState, type CurrentVersion } from "./current.js";
import { isDirectory } from "@trtforge/fs-kit";
import { isFinalManifest, readManifest, storeFields } from "./manifest.js";
import { assertStoreName, isValidStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { storeSettings, type StoreOptions, type StoreSettings } from "./settings.js";
import { listStaging, type StagingState } from "./staging.js";
import { requireRoot } from "./store-root.js";
import { isErrno, storeReadError } from "./store-errors.js";

export interface VersionInfo {
  version: string;
  path: string;
  /** Publication time: metadata.created_at, else the manifest's mtime (JustNewsAgent manifests), else the folder's. */
  createdAt: string;
  createdAtSource: "metadata" | "manifest-mtime" | "folder-mtime";
  manifest: "ok" | "missing" | "invalid" | "unfinished";
  manifestProblem?: string;
  checksum?: string;
  modelId?: string;
  revision?: string;
  fileCount?: number;
  totalBytes?: number;
  isCurrent: boolean;
  /** Kind, precision, TensorRT version and profile shapes of a build-engine version (empty for plain models). */
  build: BuildFacts;
  /** "legacy": the folder `current` points at outside versions/ (e.g. `<agent>/v1`), listed so it is not invisible. */
  layout: "versions" | "legacy";
}

export interface AgentListing {
  agent: string;
  current?: CurrentVersion;
  currentProblem?: "missing" | "dangling";
  /** Oldest first, in the order rollback and retention use. */
  versions: VersionInfo[];
  staging: StagingState[];
}

async function describeVersion(
  path: string,
  version: string,
  layout: VersionInfo["layout"],
  current: CurrentVersion | undefined,
): Promise<VersionInfo> {
  const read = await readManifest(path);
  const base = {
    version,
    path,
    layout,
    build: {} as BuildFacts,
    isCurrent: layout === "legacy" || (current?.layout === "versions" && current.version === version),
  };
  if (read.state === "ok") {
    const fields = storeFields(read.manifest.metadata);
    const created = fields.createdAt;
    const meta = read.manifest.metadata;
    return {
      ...base,
      build: buildFacts(meta),
      createdAt: (created ?? read.mtime).toISOString(),
      createdAtSource: created === undefined ? "manifest-mtime" : "metadata",
      manifest: isFinalManifest(read.manifest) ? "ok" : "unfinished",
      checksum: read.manifest.checksum,
      ...(fields.modelId === undefined ? {} : { modelId: fields.modelId }),
      ...(fields.revision === undefined ? {} : { revision: fields.revision }),
      ...(typeof meta.file_count === "number" ? { fileCount: meta.file_count } : {}),
      ...(typeof meta.total_bytes === "number" ? { totalBytes: meta.total_bytes } : {}),
    };
  }
  const folderTime = (await stat(path)).mtime.toISOString();
  return {
    ...base,
    createdAt: folderTime,
    createdAtSource: "folder-mtime",
    manifest: read.state,
    ...(read.state === "invalid" ? { manifestProblem: read.reason } : {}),
  };
}

/** Version order: publication time, then name (code points) for equal times. */
export function compareVersions(a: VersionInfo, b: VersionInfo): number {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return byTime !== 0 ? byTime : compareCodePoints(a.version, b.version);
}

/** The version published before `version`, by the order above: what rollback returns to. */
export function previousOf(ordered: readonly VersionInfo[], version: string): VersionInfo | undefined {
  const index = ordered.findIndex((v) => v.version === version && v.layout === "versions");
  return index > 0 ? ordered[index - 1] : undefined;
}

export async function listAgentVersions(
  paths: AgentPaths,
  options: { includeStaging: boolean; settings: StoreSettings },
): Promise<AgentListing> {
  const state = await readCurrentState(paths);
  if (state.state === "no-agent") throw agentNotFound(paths);
  const current = state.state === "ok" ? state.current : undefined;
  let names: string[] = [];
  try {
    names = await readdir(paths.versionsDir);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw storeReadError(err, paths.versionsDir, "listing versions");
  }
  const versions: VersionInfo[] = [];
  for (const name of names) {
    // Staging folders, claims and anything a person dropped there that is not a valid name are not versions.
    if (!isValidStoreName(name)) continue;
    const path = join(paths.versionsDir, name);
    if (!(await isDirectory(path))) continue;
    versions.push(await describeVersion(path, name, "versions", current));
  }
  if (current !== undefined && current.layout !== "versions") {
    versions.push(await describeVersion(current.path, current.version, "legacy", current));
  }
  versions.sort(compareVersions);
  return {
    agent: paths.agent,
    ...(current === undefined ? {} : { current }),
    ...(state.state === "missing" || state.state === "dangling" ? { currentProblem: state.state } : {}),
    versions,
    staging: options.includeStaging ? await listStaging(paths, options.settings) : [],
  };
}

export interface ListVersionsOptions extends StoreOptions {
  agent: string;
}

/** Versions of one agent, oldest first, with the current one marked and staging folders described. */
export async function listVersions(options: ListVersionsOptions): Promise<AgentListing> {
  const agent = assertStoreName("agent", options.agent);
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  return listAgentVersions(new AgentPaths(settings.root, agent), { includeStaging: true, settings });
}

export interface AgentSummary {
  agent: string;
  current?: string;
  currentLayout?: CurrentVersion["layout"];
  currentProblem?: "missing" | "dangling";
  versionCount: number;
}

/** Every folder of the root that looks like an agent (has versions/ or current). */
export async function listAgents(options: StoreOptions = {}): Promise<AgentSummary[]> {
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const names = (await readdir(settings.root)).filter(isValidStoreName).sort(compareCodePoints);
  const agents: AgentSummary[] = [];
  for (const agent of names) {
    const paths = new AgentPaths(settings.root, agent);
    if (!(await isDirectory(paths.agentDir))) continue;
    const state = await readCurrentState(paths);
    const hasVersions = await isDirectory(paths.versionsDir);
    if (state.state === "missing" && !hasVersions) continue;
    const listing = await listAgentVersions(paths, { includeStaging: false, settings });
    agents.push({
      agent,
      ...(listing.current === undefined ? {} : { current: listing.current.version, currentLayout: listing.current.layout }),
      ...(listing.currentProblem === undefined ? {} : { currentProblem: listing.currentProblem }),
      versionCount: listing.versions.length,
    });
  }
  return agents;
}
