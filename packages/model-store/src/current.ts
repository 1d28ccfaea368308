import { readlink, realpath, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { ForgeError, fsyncDirectory, type Logger } from "@trtforge/core";
import { currentHistoryPath, recordCurrentSwitch, type SwitchCause } from "./current-history.js";
import { isDirectory, pathKind } from "@trtforge/fs-kit";
import type { AgentLock } from "./lock.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { storeSettings, strictFromEnv, type StoreOptions } from "./settings.js";
import { isErrno, storeReadError, storeWriteError } from "./store-errors.js";

/**
 * Where `<agent>/current` leads.
 * - "versions": a symlink into versions/ (this store, JustNewsAgent's ModelStore);
 * - "legacy": a symlink elsewhere, e.g. the absolute `<agent>/v1` of populate_model_store.py;
 * - "directory": `current` is itself a folder (JustNewsAgent's get_current accepts that too).
 */
export interface CurrentVersion {
  agent: string;
  version: string;
  /** The resolved folder (symlinks followed). */
  path: string;
  /** The symlink's text as stored, or "" for a real folder. */
  link: string;
  layout: "versions" | "legacy" | "directory";
}

export type CurrentState =
  { state: "ok"; current: CurrentVersion } | { state: "missing" } | { state: "dangling"; link: string } | { state: "no-agent" };

export async function readCurrentState(paths: AgentPaths): Promise<CurrentState> {
  if (!(await isDirectory(paths.agentDir))) return { state: "no-agent" };
  const kind = await pathKind(paths.currentLink);
  if (kind === "missing") return { state: "missing" };
  if (kind === "directory") {
    return {
      state: "ok",
      current: { agent: paths.agent, version: "current", path: await realpath(paths.currentLink), link: "", layout: "directory" },
    };
  }
  if (kind !== "symlink") return { state: "dangling", link: "(not a symlink or folder)" };
  const link = await readlink(paths.currentLink);
  // JustNewsAgent resolves a relative link against the agent folder; an absolute one stands alone.
  const target = isAbsolute(link) ? link : resolve(paths.agentDir, link);
  let resolved: string;
  try {
    resolved = await realpath(target);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "ELOOP")) return { state: "dangling", link };
    throw storeReadError(err, target, "resolving current");
  }
  if (!(await isDirectory(resolved))) return { state: "dangling", link };
  const versionsReal = await realpath(paths.versionsDir).catch(() => undefined);
  const layout = versionsReal !== undefined && dirname(resolved) === versionsReal ? "versions" : "legacy";
  return { state: "ok", current: { agent: paths.agent, version: basename(resolved), path: resolved, link, layout } };
}

export function agentNotFound(paths: AgentPaths): ForgeError {
  return new ForgeError("STORE_AGENT_NOT_FOUND", `agent "${paths.agent}" does not exist in the model store ${paths.root}`, {
    input: paths.agentDir,
    fix: "check --agent and --root/MODEL_STORE_ROOT (model-store list shows the agents), or publish a first version",
  });
}

/** Turns a non-"ok" state into the error that names the problem and its fix. */
export function currentProblem(paths: AgentPaths, state: Exclude<CurrentState, { state: "ok" }>): ForgeError {
  switch (state.state) {
    case "no-agent":
      return agentNotFound(paths);
    case "missing":
      return new ForgeError(
        "STORE_VERSION_NOT_FOUND",
        `agent "${paths.agent}" has no current version (${paths.currentLink} does not exist)`,
        {
          input: paths.currentLink,
          fix: "publish a version, or name one with --version (model-store list shows them)",
        },
      );
    case "dangling":
      return new ForgeError("STORE_CURRENT_DANGLING", `${paths.currentLink} points to "${state.link}", which does not exist`, {
        input: paths.currentLink,
        fix: `point it at an existing version: model-store rollback --agent ${paths.agent} --to <version> (or publish a new one)`,
      });
  }
}

export interface ResolveCurrentOptions extends StoreOptions {
  agent: string;
  /** Throw instead of returning undefined when nothing usable is found; default: STRICT_MODEL_STORE=1. */
  strict?: boolean;
}

/**
 * The current version of an agent, like JustNewsAgent's get_current(): undefined when `current` is
 * missing or dangling, or an error when strict (STRICT_MODEL_STORE=1).
 */
export async function resolveCurrent(options: ResolveCurrentOptions): Promise<CurrentVersion | undefined> {
  const agent = assertStoreName("agent", options.agent);
  const settings = storeSettings(options);
  const paths = new AgentPaths(settings.root, agent);
  const state = await readCurrentState(paths);
  if (state.state === "ok") return state.current;
  const problem = currentProblem(paths, state);
  if (options.strict ?? strictFromEnv()) throw problem;
  settings.log.debug({ agent, reason: problem.message }, "no current version");
  return undefined;
}

/**
 * Points `current` at versions/<version> atomically, as JustNewsAgent does: a relative symlink
 * `.current.tmp` is created and renamed over `current`. Both steps are fsynced so that the switch
 * survives a power cut. Runs under the agent lock.
 */
export async function swapCurrent(paths: AgentPaths, version: string, lock: AgentLock, cause: SwitchCause, log: Logger): Promise<void> {
  const before = await readCurrentState(paths);
  const from = before.state === "ok" && before.current.layout === "versions" ? before.current.version : null;
  if ((await pathKind(paths.currentLink)) === "directory") {
    throw new ForgeError(
      "STORE_CURRENT_DANGLING",
      `${paths.currentLink} is a real folder, not a symlink, so it cannot be switched atomically`,
      {
        input: paths.currentLink,
        fix: `move that folder into ${paths.versionsDir}/<name> and replace it with a symlink: ln -sfn versions/<name> ${paths.currentLink}`,
      },
    );
  }
  try {
    await rm(paths.currentTempLink, { force: true });
    await symlink(paths.currentTarget(version), paths.currentTempLink);
    await fsyncDirectory(paths.agentDir);
    lock.assertHeld();
    await rename(paths.currentTempLink, paths.currentLink);
    await fsyncDirectory(paths.agentDir);
  } catch (err) {
    await rm(paths.currentTempLink, { force: true }).catch(() => undefined);
    throw storeWriteError(err, paths.currentLink, `switching current of agent "${paths.agent}" to ${version}`, paths.root);
  }
  // The switch is done and durable: a history that cannot be written costs only rollback's memory
  // of it (rollback then goes by publication time), so it is a warning, not a failed switch.
  await recordCurrentSwitch(paths, { from, to: version, by: cause }, lock).catch((err: unknown) =>
    log.warn(
      { agent: paths.agent, history: currentHistoryPath(paths), reason: (err as Error).message },
      "could not record the switch of current; rollback will go by publication time",
    ),
  );
}
