import { ForgeError } from "@trtforge/core";
import { currentProblem, readCurrentState, swapCurrent } from "./current.js";
import { readCurrentHistory, rollbackTarget } from "./current-history.js";
import { isDirectory } from "@trtforge/fs-kit";
import { withAgentLock } from "./lock.js";
import { requireManifest } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths } from "./paths.js";
import { storeSettings, type StoreOptions } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { assertVerified, locateVersion, verifyTree, type VerifyReport } from "./verify.js";
import { listAgentVersions } from "./versions.js";

export interface RollbackOptions extends StoreOptions {
  agent: string;
  /** Target version; default: the one published before the current one. */
  to?: string;
  /** Verify the target's checksums before switching (default true). */
  verify?: boolean;
}

export interface RollbackResult {
  agent: string;
  from: string;
  to: string;
  path: string;
  /** How the target was chosen: named with --to, the switch history (undoing the last switch), or publication order. */
  basis: "named" | "history" | "publication";
  verification?: VerifyReport;
}

/**
 * Switches `current` back to the version it pointed to before its last switch (current-history.json;
 * by publication time where no switch was recorded) or to a named one. The target is verified first; a damaged target leaves `current` untouched.
 */
export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const agent = assertStoreName("agent", options.agent);
  const to = options.to === undefined ? undefined : assertStoreName("version", options.to, "--to");
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const paths = new AgentPaths(settings.root, agent);
  const state = await readCurrentState(paths);
  // A dangling current may be repaired with an explicit target; without one there is nothing to go back from.
  if (state.state !== "ok" && !(to !== undefined && state.state === "dangling")) throw currentProblem(paths, state);
  const from = state.state === "ok" ? state.current.version : "(dangling)";
  let target: string;
  let basis: RollbackResult["basis"] = "named";
  if (to !== undefined) {
    const located = await locateVersion(paths, to);
    if (located.layout !== "versions") {
      throw new ForgeError(
        "STORE_VERSION_NOT_FOUND",
        `"${to}" is a legacy folder outside versions/; rollback only switches between published versions`,
        {
          input: located.path,
          fix: "republish it with model-store publish to make it a version",
        },
      );
    }
    target = to;
  } else {
    if (state.state === "ok" && state.current.layout !== "versions") {
      throw new ForgeError(
        "STORE_NO_PREVIOUS_VERSION",
        `current of agent "${agent}" is the legacy folder ${state.current.path}, which has no recorded predecessor`,
        {
          input: paths.currentLink,
          fix: "name a target with --to <version>",
        },
      );
    }
    const listing = await listAgentVersions(paths, { includeStaging: false, settings });
    const previous = rollbackTarget(await readCurrentHistory(paths), from, listing.versions);
    if (previous === undefined) {
      throw new ForgeError("STORE_NO_PREVIOUS_VERSION", `agent "${agent}" has no version to go back to from "${from}"`, {
        input: paths.currentLink,
        fix: `list the versions (model-store list --agent ${agent}) and pick one with --to`,
      });
    }
    target = previous.version;
    basis = previous.basis;
  }
  if (state.state === "ok" && state.current.layout === "versions" && target === from) {
    throw new ForgeError("STORE_ALREADY_CURRENT", `"${target}" is already the current version of agent "${agent}"`, {
      input: "--to",
      fix: "name a different version",
    });
  }
  const targetPath = paths.versionDir(target);
  let verification: VerifyReport | undefined;
  if (options.verify ?? true) {
    // Verified outside the lock: hashing gigabytes must not hold up other writers.
    const { manifest } = await requireManifest(targetPath, `version "${target}" of agent "${agent}"`);
    verification = await verifyTree({ agent, version: target, path: targetPath, layout: "versions" }, manifest);
    assertVerified(verification);
  }
  await withAgentLock(paths, settings, `rolling back to ${target}`, async (lock) => {
    const now = await readCurrentState(paths);
    const nowVersion = now.state === "ok" ? now.current.version : "(dangling)";
    if (nowVersion !== from) {
      throw new ForgeError("STORE_LOCKED", `current of agent "${agent}" changed to "${nowVersion}" while rolling back from "${from}"`, {
        input: paths.currentLink,
        fix: "another writer published or rolled back meanwhile; check model-store show and retry",
      });
    }
    if (!(await isDirectory(targetPath))) {
      throw new ForgeError("STORE_VERSION_NOT_FOUND", `version "${target}" was removed while rolling back (gc?)`, {
        input: targetPath,
        fix: "pick another version with --to",
      });
    }
    await swapCurrent(paths, target, lock, to === undefined ? "rollback" : "rollback-to", settings.log);
  });
  settings.log.info({ agent, from, to: target, basis }, `current of ${agent}: ${from} -> ${target}`);
  return { agent, from, to: target, path: targetPath, basis, ...(verification === undefined ? {} : { verification }) };
}
