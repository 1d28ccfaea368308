import { isForgeError, type Logger } from "@trtforge/core";
import { publish, showVersion, type PublishFile, type VersionDetails } from "@trtforge/model-store";

/** The store version of a build: named by its key, so an identical build finds it. */
export function buildVersionName(buildKey: string): string {
  return `build-${buildKey.slice(0, 16)}`;
}

/** The earlier identical build, when the store already holds it. */
export async function findBuild(root: string | undefined, agent: string, buildKey: string): Promise<VersionDetails | undefined> {
  try {
    return await showVersion({ agent, version: buildVersionName(buildKey), ...(root ? { root } : {}) });
  } catch (err) {
    // A store that does not exist yet, or has no such agent or version, holds no earlier build.
    if (isForgeError(err) && (err.code === "STORE_AGENT_NOT_FOUND" || err.code === "STORE_VERSION_NOT_FOUND" || err.code === "FILE_NOT_FOUND")) return undefined;
    throw err;
  }
}

export async function publishBuild(options: {
  root: string | undefined;
  agent: string;
  buildKey: string;
  files: PublishFile[];
  metadata: Record<string, unknown>;
  log: Logger;
}) {
  return publish({
    ...(options.root ? { root: options.root } : {}),
    agent: options.agent,
    version: buildVersionName(options.buildKey),
    files: options.files,
    metadata: options.metadata,
    logger: options.log,
  });
}
