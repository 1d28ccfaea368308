import { isForgeError, type Logger } from "@trtforge/core";
import { promoteVersion, publish, showVersion, type CurrentChange, type PublishFile, type VersionDetails } from "@trtforge/model-store";

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
    if (
      isForgeError(err) &&
      (err.code === "STORE_AGENT_NOT_FOUND" || err.code === "STORE_VERSION_NOT_FOUND" || err.code === "FILE_NOT_FOUND")
    )
      return undefined;
    throw err;
  }
}

/** What happened to `<agent>/current`, and the version it names afterwards (null: none). */
export interface CurrentOutcome {
  change: CurrentChange;
  version: string | null;
}

export interface PublishedBuild {
  version: string;
  path: string;
  /** True when an identical build was already there (found first, or published by a racing run). */
  reused: boolean;
  engineName: string;
  current: CurrentOutcome;
}

function engineNameOf(details: VersionDetails): string {
  return String((details.manifest.metadata as { engine?: unknown }).engine ?? "");
}

/**
 * `current` after reusing a version, exactly as a fresh publish would have left it: moved with
 * `promote`, else only when the agent has no usable current (a first build, or one whose promotion
 * was interrupted).
 */
async function settleReusedCurrent(options: {
  root: string | undefined;
  agent: string;
  version: string;
  promote: boolean;
  logger: Logger;
}): Promise<CurrentOutcome> {
  const result = await promoteVersion({
    ...(options.root ? { root: options.root } : {}),
    agent: options.agent,
    version: options.version,
    onlyIfNoCurrent: !options.promote,
    logger: options.logger,
  });
  return { change: result.change, version: result.current ?? null };
}

/** An earlier identical build, as the result of this one. */
export async function reuseBuild(options: {
  root: string | undefined;
  existing: VersionDetails;
  promote: boolean;
  logger: Logger;
}): Promise<PublishedBuild> {
  const { existing } = options;
  const current = await settleReusedCurrent({
    root: options.root,
    agent: existing.agent,
    version: existing.version,
    promote: options.promote,
    logger: options.logger,
  });
  return { version: existing.version, path: existing.path, reused: true, engineName: engineNameOf(existing), current };
}

/**
 * Publishes a build under its key's version. `current` moves only with `promote`, or when the agent
 * has none yet. An identical run that won the race to publish first makes this one a reuse of its
 * version (the same files, by the build key), never STORE_VERSION_EXISTS.
 */
export async function publishBuild(options: {
  root: string | undefined;
  agent: string;
  buildKey: string;
  engineName: string;
  files: PublishFile[];
  metadata: Record<string, unknown>;
  promote: boolean;
  logger: Logger;
}): Promise<PublishedBuild> {
  try {
    const published = await publish({
      ...(options.root ? { root: options.root } : {}),
      agent: options.agent,
      version: buildVersionName(options.buildKey),
      files: options.files,
      metadata: options.metadata,
      setCurrent: options.promote ? true : "if-no-current",
      logger: options.logger,
    });
    const current = {
      change: published.currentChange,
      version: published.current ? published.version : (published.previousCurrent ?? null),
    };
    return { version: published.version, path: published.path, reused: false, engineName: options.engineName, current };
  } catch (err) {
    if (!isForgeError(err) || err.code !== "STORE_VERSION_EXISTS") throw err;
    const winner = await findBuild(options.root, options.agent, options.buildKey);
    if (winner === undefined) throw err;
    options.logger.info({ agent: options.agent, version: winner.version }, "an identical build finished first: reusing its version");
    return reuseBuild({ root: options.root, existing: winner, promote: options.promote, logger: options.logger });
  }
}
