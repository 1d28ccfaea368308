/**
 * vitest globalSetup of the e2e project: the run's shared work dir (tests/support/shared-work.ts)
 * and a size bound on the export stages kept across runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { silentLogger } from "@trtforge/core";
import { applyWorkBudget } from "@trtforge/pipeline";
import { SHARED_EXPORT_ROOT, workDirSharingExports } from "./shared-work.js";

/** A few exporter versions of each test model's exports (MiniLM's is ~100 MB); least recently used go first. */
const EXPORT_CACHE_BUDGET = { maxBytes: 4 * 1024 ** 3, maxAgeMs: 14 * 24 * 3600 * 1000 };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await applyWorkBudget(SHARED_EXPORT_ROOT, EXPORT_CACHE_BUDGET, silentLogger());
  const runDir = await mkdtemp(join(tmpdir(), "trtforge-test-run-"));
  project.provide("trtforgeRunWorkDir", await workDirSharingExports(join(runDir, "work")));
  return () => rm(runDir, { recursive: true, force: true });
}
