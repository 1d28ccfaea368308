import { isForgeError, type Logger } from "@trtforge/core";
import {
  promoteVersion,
  promoteWithEvidence,
  publish,
  showVersion,
  verifyVersion,
  type CurrentChange,
  type EvidenceChoice,
  type PublishFile,
  type VerifyReport,
  type VersionDetails,
} from "@trtforge/model-store";

/**
 * The store version of a build: named by its key, so an identical build finds it. A version found
 * damaged is never reused or replaced (versions are immutable): the build publishes afresh under the
 * next attempt's name, `build-<key>-r2`, `-r3`, ...
 */
export function buildVersionName(buildKey: string, attempt = 1): string {
  const base = `build-${buildKey.slice(0, 16)}`;
  return attempt <= 1 ? base : `${base}-r${attempt}`;
}

async function showIfPresent(root: string | undefined, agent: string, version: string): Promise<VersionDetails | undefined> {
  try {
    return await showVersion({ agent, version, ...(root ? { root } : {}) });
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

/** What the store holds of a build key: the intact version to reuse, or the damaged one and the name to publish under. */
export type StoredBuild =
  | { state: "absent"; version: string }
  | { state: "intact"; existing: VersionDetails; verify: VerifyReport }
  | { state: "damaged"; damaged: VerifyReport; version: string };

/** One line naming what is wrong with a damaged version: its bad files and how. */
export function describeDamage(report: VerifyReport): string {
  const named = report.problems.slice(0, 5).map((p) => (p.file ? `${p.file} ${p.kind}` : p.message));
  const more = report.problems.length > 5 ? ` and ${report.problems.length - 5} more` : "";
  return `${report.agent}/${report.version} no longer matches its manifest: ${named.join(", ") || "checksum differs"}${more}`;
}

/**
 * The earlier identical build, verified against its manifest before anything reuses it: the newest
 * attempt of the key is checked (the older ones were found damaged by an earlier build).
 */
export async function findBuild(root: string | undefined, agent: string, buildKey: string): Promise<StoredBuild> {
  let attempt = 1;
  let latest: VersionDetails | undefined;
  for (;;) {
    const found = await showIfPresent(root, agent, buildVersionName(buildKey, attempt));
    if (found === undefined) break;
    latest = found;
    attempt++;
  }
  if (latest === undefined) return { state: "absent", version: buildVersionName(buildKey) };
  const verify = await verifyVersion({ agent, version: latest.version, ...(root ? { root } : {}) });
  return verify.ok
    ? { state: "intact", existing: latest, verify }
    : { state: "damaged", damaged: verify, version: buildVersionName(buildKey, attempt) };
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
  evidence: EvidenceChoice | undefined;
  logger: Logger;
}): Promise<CurrentOutcome> {
  const where = { ...(options.root ? { root: options.root } : {}), agent: options.agent, version: options.version, logger: options.logger };
  const result = options.promote
    ? await promoteWithEvidence({ ...where, evidence: options.evidence })
    : await promoteVersion({ ...where, onlyIfNoCurrent: true });
  return { change: result.change, version: result.current ?? null };
}

/** An earlier identical build, as the result of this one. */
export async function reuseBuild(options: {
  root: string | undefined;
  existing: VersionDetails;
  promote: boolean;
  evidence: EvidenceChoice | undefined;
  logger: Logger;
}): Promise<PublishedBuild> {
  const { existing } = options;
  const current = await settleReusedCurrent({
    root: options.root,
    agent: existing.agent,
    version: existing.version,
    promote: options.promote,
    evidence: options.evidence,
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
  /** The name findBuild settled: the key's, or the next attempt's after a damaged one. */
  version: string;
  engineName: string;
  files: PublishFile[];
  metadata: Record<string, unknown>;
  promote: boolean;
  evidence: EvidenceChoice | undefined;
  logger: Logger;
}): Promise<PublishedBuild> {
  try {
    // current moves with the publish only where the agent has none; promote over one is judged on its evidence next.
    const published = await publish({
      ...(options.root ? { root: options.root } : {}),
      agent: options.agent,
      version: options.version,
      files: options.files,
      metadata: options.metadata,
      setCurrent: "if-no-current",
      logger: options.logger,
    });
    let current: CurrentOutcome = {
      change: published.currentChange,
      version: published.current ? published.version : (published.previousCurrent ?? null),
    };
    if (options.promote && published.currentChange !== "first") {
      current = await settleReusedCurrent({
        root: options.root,
        agent: options.agent,
        version: published.version,
        promote: true,
        evidence: options.evidence,
        logger: options.logger,
      });
    }
    return { version: published.version, path: published.path, reused: false, engineName: options.engineName, current };
  } catch (err) {
    if (!isForgeError(err) || err.code !== "STORE_VERSION_EXISTS") throw err;
    const winner = await showIfPresent(options.root, options.agent, options.version);
    if (winner === undefined) throw err;
    options.logger.info({ agent: options.agent, version: winner.version }, "an identical build finished first: reusing its version");
    return reuseBuild({
      root: options.root,
      existing: winner,
      promote: options.promote,
      evidence: options.evidence,
      logger: options.logger,
    });
  }
}
