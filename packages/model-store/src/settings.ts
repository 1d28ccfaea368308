import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ForgeError, silentLogger, type Logger } from "@trtforge/core";

/** Options every store operation accepts; everything but `root` has a sensible default. */
export interface StoreOptions {
  /** Store root; defaults to $MODEL_STORE_ROOT. */
  root?: string;
  logger?: Logger;
  /** How long a writer waits for another writer's lock before STORE_LOCKED (default 60 s). */
  lockWaitMs?: number;
  /**
   * A lock not refreshed for this long belongs to a dead process and is broken (default 10 s,
   * or $MODEL_STORE_LOCK_STALE_MS). Must be the same for every process using the store.
   */
  lockStaleMs?: number;
  /** A staging folder without writer activity for this long is stale (default 15 min, or $MODEL_STORE_STAGING_STALE_MS). */
  stagingStaleMs?: number;
}

export interface StoreSettings {
  root: string;
  log: Logger;
  lockWaitMs: number;
  lockStaleMs: number;
  stagingStaleMs: number;
}

export const DEFAULT_LOCK_WAIT_MS = 60_000;
export const DEFAULT_LOCK_STALE_MS = 10_000;
/** proper-lockfile refuses anything shorter. */
export const MIN_LOCK_STALE_MS = 2_000;
export const DEFAULT_STAGING_STALE_MS = 15 * 60_000;

function envMilliseconds(name: string, fallback: number, minimum: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  if (!/^\d+$/.test(text) || Number(text) < minimum) {
    throw new ForgeError("INVALID_LIMIT", `${name}="${text}" is not a whole number of milliseconds >= ${minimum}`, {
      input: name,
      fix: `unset ${name} or set it to a number of milliseconds such as ${fallback}`,
    });
  }
  return Number(text);
}

function checkedMilliseconds(value: number | undefined, name: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < minimum) {
    throw new ForgeError("INVALID_LIMIT", `${name} must be at least ${minimum} ms, got ${value}`, {
      input: name,
      fix: `pass ${name} >= ${minimum}`,
    });
  }
  return value;
}

/** Expands "~" and makes the root absolute, as JustNewsAgent's ModelStore does with expanduser().resolve(). */
export function resolveStoreRoot(root: string | undefined): string {
  const given = root ?? process.env.MODEL_STORE_ROOT;
  if (given === undefined || given.trim() === "") {
    throw new ForgeError("STORE_ROOT_UNSET", "no model store root: MODEL_STORE_ROOT is not set and no root was given", {
      input: "--root",
      fix: "pass --root <dir> or set MODEL_STORE_ROOT (JustNewsAgent uses e.g. /opt/justnews/models)",
    });
  }
  if (given === "~") return homedir();
  if (given.startsWith("~/")) return join(homedir(), given.slice(2));
  return resolve(given);
}

export function storeSettings(options: StoreOptions): StoreSettings {
  return {
    root: resolveStoreRoot(options.root),
    log: options.logger ?? silentLogger(),
    lockWaitMs: checkedMilliseconds(options.lockWaitMs, "lockWaitMs", DEFAULT_LOCK_WAIT_MS, 0),
    lockStaleMs: checkedMilliseconds(
      options.lockStaleMs,
      "lockStaleMs",
      envMilliseconds("MODEL_STORE_LOCK_STALE_MS", DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS),
      MIN_LOCK_STALE_MS,
    ),
    stagingStaleMs: checkedMilliseconds(
      options.stagingStaleMs,
      "stagingStaleMs",
      envMilliseconds("MODEL_STORE_STAGING_STALE_MS", DEFAULT_STAGING_STALE_MS, 1_000),
      1_000,
    ),
  };
}

/** STRICT_MODEL_STORE=1 makes a failed resolve an error, as in JustNewsAgent's loaders. */
export function strictFromEnv(): boolean {
  return process.env.STRICT_MODEL_STORE === "1";
}
