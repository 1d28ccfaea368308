import { resolve } from "node:path";
import { ForgeError, type Logger as StoreLogger } from "@trtforge/core";
import { readCurrentState, swapCurrent, type CurrentState } from "./current.js";
import { isDirectory } from "@trtforge/fs-kit";
import { withAgentLock } from "./lock.js";
import {
  evidenceRequired,
  judgeEvidence,
  promoter,
  promotionsOf,
  readEvidenceReport,
  type EvidenceChoice,
  type PromotionBasis,
  type PromotionRecord,
  type ReadEvidence,
} from "./evidence.js";
import { isFinalManifest, readManifest, requireManifest, writeManifest } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { storeSettings, type StoreOptions } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { agentNotFound } from "./current.js";
import { assertVerified, verifyTree, type VerifyReport } from "./verify.js";

export interface PromoteOptions extends StoreOptions {
  agent: string;
  version: string;
  /** Verify the version's checksums before switching (default true). */
  verify?: boolean;
  /**
   * Switch only if the agent has nothing servable yet (no `current`, or one that dangles), decided
   * under the agent lock: how a first build makes a fresh store servable without overriding an
   * operator's choice.
   */
  onlyIfNoCurrent?: boolean;
  /**
   * Called under the agent lock with the version current names now (undefined: none), just before
   * the switch: throws to refuse it, or returns what the promoted version's manifest records.
   */
  judge?: (previous: string | undefined) => PromotionBasis | undefined;
}

/** "promoted": current moved here; "first": the agent had no usable current; "unchanged": current stays where it was. */
export type CurrentChange = "promoted" | "first" | "unchanged";

export interface PromoteResult {
  agent: string;
  version: string;
  path: string;
  change: CurrentChange;
  /** The version current named before (absent when it was missing or dangling). */
  previous?: string;
  /** The version current names now. */
  current?: string;
  verification?: VerifyReport;
  /** What the promoted version's manifest now records of this promotion (absent when current did not move or nothing was judged). */
  promotion?: PromotionRecord;
}

function currentVersionOf(state: CurrentState): string | undefined {
  return state.state === "ok" ? state.current.version : undefined;
}

/**
 * Points `current` at a finalized, verified version: the operator's choice of what consumers serve.
 * Promoting the version that is already current changes nothing and is not an error.
 */
export async function promoteVersion(options: PromoteOptions): Promise<PromoteResult> {
  const agent = assertStoreName("agent", options.agent);
  const version = assertStoreName("version", options.version);
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const paths = new AgentPaths(settings.root, agent);
  if (!(await isDirectory(paths.agentDir))) throw agentNotFound(paths);
  const path = paths.versionDir(version);
  if (!(await isDirectory(path))) {
    throw new ForgeError("STORE_VERSION_NOT_FOUND", `agent "${agent}" has no version "${version}" in ${paths.root}`, {
      input: path,
      fix: `list the versions with: model-store list --agent ${agent}`,
    });
  }
  const { manifest } = await requireManifest(path, `version "${version}" of agent "${agent}"`);
  if (!isFinalManifest(manifest)) {
    throw new ForgeError(
      "STORE_MANIFEST_INVALID",
      `version "${version}" of agent "${agent}" is not finalized (its manifest has no checksum)`,
      {
        input: path,
        fix: "promote a finalized version (model-store list marks them ok)",
      },
    );
  }
  if (options.onlyIfNoCurrent === true) {
    // Checked again under the lock; this early answer only spares hashing a version that will not be switched to.
    const now = await readCurrentState(paths);
    if (now.state === "ok")
      return { agent, version, path, change: "unchanged", previous: now.current.version, current: now.current.version };
  }
  let verification: VerifyReport | undefined;
  if (options.verify ?? true) {
    // Outside the lock: hashing gigabytes must not hold up other writers.
    verification = await verifyTree({ agent, version, path, layout: "versions" }, manifest);
    assertVerified(verification);
  }
  return withAgentLock(paths, settings, `promoting ${version}`, async (lock) => {
    const before = await readCurrentState(paths);
    const previous = currentVersionOf(before);
    const base = {
      agent,
      version,
      path,
      ...(previous === undefined ? {} : { previous }),
      ...(verification === undefined ? {} : { verification }),
    };
    const alreadyCurrent = before.state === "ok" && before.current.layout === "versions" && previous === version;
    if (alreadyCurrent || (options.onlyIfNoCurrent === true && before.state === "ok")) {
      return { ...base, change: "unchanged" as const, ...(previous === undefined ? {} : { current: previous }) };
    }
    if (!(await isDirectory(path))) {
      throw new ForgeError("STORE_VERSION_NOT_FOUND", `version "${version}" was removed while promoting it (gc?)`, {
        input: path,
        fix: "publish it again or promote another version",
      });
    }
    const judged = options.judge?.(previous);
    await swapCurrent(paths, version, lock, "promote", settings.log);
    const change = before.state === "ok" ? ("promoted" as const) : ("first" as const);
    const promotion: PromotionRecord | undefined =
      judged === undefined ? undefined : { at: new Date().toISOString(), by: promoter(), from: previous ?? null, ...judged };
    if (promotion !== undefined) await recordPromotion(path, promotion, settings.log);
    settings.log.info({ agent, from: previous ?? null, to: version, change }, `current of ${agent}: ${previous ?? "(none)"} -> ${version}`);
    return { ...base, change, current: version, ...(promotion === undefined ? {} : { promotion }) };
  });
}

/**
 * Appends to metadata.promotions of the version's manifest (outside the JustNewsAgent checksum, which
 * covers the files only; its ModelStore reads metadata as free-form). The switch is already done and
 * durable: a record that cannot be written is a warning, as the current history's is.
 */
async function recordPromotion(path: string, promotion: PromotionRecord, log: StoreLogger): Promise<void> {
  try {
    const read = await readManifest(path);
    if (read.state !== "ok") throw new Error(`manifest ${read.state}`);
    const metadata = { ...read.manifest.metadata, promotions: [...promotionsOf(read.manifest.metadata), promotion] };
    await writeManifest(path, { ...read.manifest, metadata });
  } catch (err) {
    log.warn({ version: path, reason: (err as Error).message }, "could not record the promotion in the version's manifest");
  }
}

export interface PromoteWithEvidenceOptions extends Omit<PromoteOptions, "judge" | "onlyIfNoCurrent"> {
  /** A compare report, or explicitly none; undefined refuses unless the agent has no current version yet. */
  evidence: EvidenceChoice | undefined;
}

/**
 * The operator's promotion (model-store promote, build-engine --promote): `current` moves only on a
 * passed, recent compare report of exactly this candidate against the version current names now,
 * or on an explicit withoutEvidence (recorded as such). An agent's first version needs none. The
 * report is read before the lock and judged under it, against the current it is about to replace.
 */
export async function promoteWithEvidence(options: PromoteWithEvidenceOptions): Promise<PromoteResult> {
  const { evidence, ...rest } = options;
  const read: ReadEvidence | undefined =
    evidence !== undefined && "report" in evidence ? await readEvidenceReport(evidence.report) : undefined;
  const maxAgeMs = evidence !== undefined && "report" in evidence ? evidence.maxAgeMs : undefined;
  return promoteVersion({
    ...rest,
    judge: (previous) => {
      if (previous === undefined) return { evidence: "first" } satisfies PromotionBasis;
      if (evidence === undefined) throw evidenceRequired(options.agent, options.version, previous);
      if (read === undefined) return { evidence: "none" };
      judgeEvidence(
        read,
        { agent: options.agent, candidate: options.version, current: previous },
        maxAgeMs === undefined ? {} : { maxAgeMs },
      );
      return {
        evidence: "report",
        report_sha256: read.sha256,
        report_path: resolve(read.path),
        report_created_at: read.report.created_at,
      };
    },
  });
}
