import { rename, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ForgeError, fsyncDirectory } from "@trtforge/core";
import { digestTree } from "./checksum.js";
import { readCurrentState, swapCurrent } from "./current.js";
import { pathKind } from "@trtforge/fs-kit";
import { withAgentLock } from "./lock.js";
import { parseUserMetadata, readManifest, storeFields, writeManifest, type Manifest } from "./manifest.js";
import { assertStoreName, defaultVersionName } from "./names.js";
import { AgentPaths, MANIFEST_NAME } from "./paths.js";
import { currentProcessIdentity } from "@trtforge/fs-kit";
import type { CurrentChange } from "./promote.js";
import { applyRetentionLocked, assertKeepCount, type RetentionPlan } from "./retention.js";
import { storeSettings, type StoreOptions, type StoreSettings } from "./settings.js";
import { planFromDirectory, planFromFiles, writePlan, type PublishFile, type StagePlan } from "./stage-files.js";
import { claimStaging, cleanStaleStaging, versionExistsError, type StagingClaim } from "./staging.js";
import { ensureAgentDirs } from "./store-root.js";
import { isErrno, storeWriteError } from "./store-errors.js";
import { walkTree } from "./tree-walk.js";

export interface FinalizeOptions {
  /** Free-form metadata merged into the manifest (JSON-serializable; store-owned keys are refused). */
  metadata?: Record<string, unknown>;
  /**
   * Switch `current` to the new version (default true, as JustNewsAgent's finalize always does).
   * "if-no-current": only when the agent has no usable current (missing or dangling), decided under
   * the lock, so a first version makes a fresh agent servable without overriding an operator's choice.
   */
  setCurrent?: boolean | "if-no-current";
  /** After publishing, remove all but the N newest versions (never current or its previous one). */
  keep?: number;
}

export interface PublishResult {
  agent: string;
  version: string;
  path: string;
  checksum: string;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
  /** Whether `current` now points at this version. */
  current: boolean;
  /** "promoted": current moved here from another version; "first": the agent had no usable current; "unchanged": not moved. */
  currentChange: CurrentChange;
  /** The version `current` pointed at before, if any. */
  previousCurrent?: string;
  /** Stale staging folders of crashed writers removed before staging. */
  cleanedStaging: string[];
  retention?: RetentionPlan;
}

/** JustNewsAgent's stage_new(): a folder to fill, then finalize() or abort(). */
export interface StagedVersion {
  agent: string;
  version: string;
  /** `versions/<version>.tmp`; write the model here (not a top-level manifest.json). */
  dir: string;
  finalize(options?: FinalizeOptions): Promise<PublishResult>;
  abort(): Promise<void>;
}

interface Context {
  settings: StoreSettings;
  paths: AgentPaths;
  cleanedStaging: string[];
}

function takenOver(claim: StagingClaim): ForgeError {
  return new ForgeError(
    "STORE_LOCKED",
    `the staging folder ${claim.dir} is no longer this process's: another writer judged it stale and removed it`,
    {
      input: claim.dir,
      fix: "this process was paused longer than the staging stale time (MODEL_STORE_STAGING_STALE_MS); publish again",
    },
  );
}

async function finalizeClaim(ctx: Context, claim: StagingClaim, options: FinalizeOptions): Promise<PublishResult> {
  const { settings, paths } = ctx;
  const metadata = parseUserMetadata(options.metadata);
  const keep = options.keep === undefined ? undefined : assertKeepCount(options.keep, "keep");
  // Hashing needs no lock: the staging folder is ours alone. The top-level manifest.json is our staging record.
  const files = (await walkTree(claim.dir, { dirSymlinks: "error" })).filter((f) => f.relPath !== MANIFEST_NAME);
  if (files.length === 0) {
    throw new ForgeError("FILE_NOT_FOUND", `nothing to publish: ${claim.dir} holds no files`, {
      input: claim.dir,
      fix: "write the model files into the staging folder before finalizing",
    });
  }
  const digest = await digestTree(files, { perFile: true });
  return withAgentLock(paths, settings, `publishing ${claim.version}`, async (lock) => {
    const record = await readManifest(claim.dir);
    if (record.state !== "ok" || storeFields(record.manifest.metadata).staging?.token !== claim.record.token) throw takenOver(claim);
    if ((await pathKind(paths.versionDir(claim.version))) !== "missing") throw versionExistsError(paths, claim.version);
    const createdAt = new Date().toISOString();
    const manifest: Manifest = {
      version: claim.version,
      checksum: digest.checksum,
      metadata: {
        ...metadata,
        created_at: createdAt,
        file_count: digest.fileCount,
        total_bytes: digest.totalBytes,
        files: Object.fromEntries(digest.files),
        publisher: { ...currentProcessIdentity(), tool: "trtforge model-store" },
      },
    };
    await writeManifest(claim.dir, manifest);
    lock.assertHeld();
    try {
      await rename(claim.dir, paths.versionDir(claim.version));
      claim.stop();
      await fsyncDirectory(paths.versionsDir);
    } catch (err) {
      throw storeWriteError(err, claim.dir, `finalizing version "${claim.version}"`, paths.root);
    }
    settings.log.info(
      { agent: paths.agent, version: claim.version, files: digest.fileCount, bytes: digest.totalBytes },
      `published ${paths.agent}/${claim.version}`,
    );
    const before = await readCurrentState(paths);
    const wanted = options.setCurrent ?? true;
    const setCurrent = wanted === "if-no-current" ? before.state !== "ok" : wanted;
    if (setCurrent) await swapCurrent(paths, claim.version, lock, "publish", settings.log);
    const currentChange: CurrentChange = !setCurrent ? "unchanged" : before.state === "ok" ? "promoted" : "first";
    const retention = keep === undefined ? undefined : await applyRetentionLocked(paths, settings, keep, lock);
    return {
      agent: paths.agent,
      version: claim.version,
      path: paths.versionDir(claim.version),
      checksum: digest.checksum,
      fileCount: digest.fileCount,
      totalBytes: digest.totalBytes,
      createdAt,
      current: setCurrent,
      currentChange,
      ...(before.state === "ok" ? { previousCurrent: before.current.version } : {}),
      cleanedStaging: ctx.cleanedStaging,
      ...(retention === undefined ? {} : { retention }),
    };
  });
}

/** Removes our staging folder, unless another writer has taken the path over (its token is there now). */
async function abortClaim(claim: StagingClaim): Promise<void> {
  claim.stop();
  const read = await readManifest(claim.dir);
  const token = read.state === "ok" ? storeFields(read.manifest.metadata).staging?.token : undefined;
  if (token !== undefined && token !== claim.record.token) return;
  await rm(claim.dir, { recursive: true, force: true });
}

/** Checks that cost nothing and change nothing, so that the common mistakes leave the store untouched. */
async function precheck(paths: AgentPaths, version: string, setCurrent: boolean | "if-no-current"): Promise<void> {
  if ((await pathKind(paths.versionDir(version)).catch(() => "missing")) !== "missing") throw versionExistsError(paths, version);
  if (setCurrent === true && (await pathKind(paths.currentLink).catch(() => "missing")) === "directory") {
    throw new ForgeError(
      "STORE_CURRENT_DANGLING",
      `${paths.currentLink} is a real folder, so it cannot be switched to a new version atomically`,
      {
        input: paths.currentLink,
        fix: `move it into ${paths.versionsDir}/<name> and replace it with a symlink (ln -sfn versions/<name> current), or publish with --no-set-current`,
      },
    );
  }
}

async function openStaging(ctx: Context, version: string): Promise<StagedVersion> {
  await ensureAgentDirs(ctx.paths);
  ctx.cleanedStaging.push(...(await cleanStaleStaging(ctx.paths, ctx.settings)).map((s) => s.name));
  const claim = await claimStaging(ctx.paths, version, ctx.settings);
  let settled = false;
  return {
    agent: ctx.paths.agent,
    version,
    dir: claim.dir,
    finalize: async (options = {}) => {
      if (settled)
        throw new ForgeError("INVALID_ARGUMENT", `version "${version}" was already finalized or aborted`, { fix: "stage a new version" });
      settled = true;
      try {
        return await finalizeClaim(ctx, claim, options);
      } catch (err) {
        await abortClaim(claim).catch(() => undefined);
        throw err;
      }
    },
    abort: async () => {
      if (settled) return;
      settled = true;
      await abortClaim(claim);
    },
  };
}

export interface StageOptions extends StoreOptions {
  agent: string;
  /** Default: vYYYYMMDD-HHMMSS (UTC). */
  version?: string;
}

/** Claims `versions/<version>.tmp` (cleaning crashed writers' staging first) for the caller to fill. */
export async function stageVersion(options: StageOptions): Promise<StagedVersion> {
  const agent = assertStoreName("agent", options.agent);
  const version = assertStoreName("version", options.version ?? defaultVersionName());
  const settings = storeSettings(options);
  const paths = new AgentPaths(settings.root, agent);
  await precheck(paths, version, false);
  return openStaging({ settings, paths, cleanedStaging: [] }, version);
}

export interface PublishOptions extends StoreOptions, FinalizeOptions {
  agent: string;
  /** Default: vYYYYMMDD-HHMMSS (UTC). */
  version?: string;
  /** A folder to copy (symlinks to files are followed); give this or `files`. */
  sourceDir?: string;
  files?: readonly PublishFile[];
}

async function sourcePlan(options: PublishOptions): Promise<StagePlan> {
  if ((options.sourceDir === undefined) === (options.files === undefined)) {
    throw new ForgeError("INVALID_ARGUMENT", "publish needs exactly one of sourceDir and files", {
      fix: "pass the folder to publish, or the list of files",
    });
  }
  if (options.files !== undefined) return planFromFiles(options.files);
  const sourceDir = resolve(options.sourceDir as string);
  try {
    if (!(await stat(sourceDir)).isDirectory()) {
      throw new ForgeError("NOT_A_DIRECTORY", `${sourceDir} is a file; publish takes a folder`, {
        input: sourceDir,
        fix: "pass the folder that holds the model files",
      });
    }
  } catch (err) {
    if (isErrno(err, "ENOENT"))
      throw new ForgeError("FILE_NOT_FOUND", `the folder to publish, ${sourceDir}, does not exist`, {
        input: sourceDir,
        fix: "check the path",
      });
    throw err;
  }
  return planFromDirectory(sourceDir);
}

/**
 * Publishes a folder or a list of files as a new version: staged in `versions/<version>.tmp`, every
 * file and folder fsynced, manifest written, renamed into place and `current` switched, all or
 * nothing. Concurrent publishers of the same version: one wins, the others get STORE_VERSION_EXISTS.
 */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const agent = assertStoreName("agent", options.agent);
  const version = assertStoreName("version", options.version ?? defaultVersionName());
  parseUserMetadata(options.metadata);
  if (options.keep !== undefined) assertKeepCount(options.keep, "keep");
  const settings = storeSettings(options);
  const paths = new AgentPaths(settings.root, agent);
  const plan = await sourcePlan(options);
  if (plan.files.length === 0) {
    throw new ForgeError("FILE_NOT_FOUND", `nothing to publish: ${options.sourceDir ?? "the file list"} holds no files`, {
      input: options.sourceDir ?? "files",
      fix: "publish a folder that contains the model files",
    });
  }
  return publishPlan({ settings, paths, cleanedStaging: [] }, version, plan, options);
}

/** The shared tail of publish and import-hf, once the source has been checked. */
export async function publishPlan(ctx: Context, version: string, plan: StagePlan, options: FinalizeOptions): Promise<PublishResult> {
  await precheck(ctx.paths, version, options.setCurrent ?? true);
  const staged = await openStaging(ctx, version);
  try {
    await writePlan(staged.dir, plan);
  } catch (err) {
    await staged.abort().catch(() => undefined);
    throw storeWriteError(err, staged.dir, `writing version "${version}"`, ctx.paths.root);
  }
  return staged.finalize(options);
}
