import { ForgeError } from "@trtforge/core";
import { readCurrentState, swapCurrent, type CurrentState } from "./current.js";
import { isDirectory } from "@trtforge/fs-kit";
import { withAgentLock } from "./lock.js";
import { isFinalManifest, requireManifest } from "./manifest.js";
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
    await swapCurrent(paths, version, lock, "promote", settings.log);
    const change = before.state === "ok" ? ("promoted" as const) : ("first" as const);
    settings.log.info({ agent, from: previous ?? null, to: version, change }, `current of ${agent}: ${previous ?? "(none)"} -> ${version}`);
    return { ...base, change, current: version };
  });
}
