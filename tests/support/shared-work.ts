/**
 * Work dirs of the end-to-end suites that share what they may share (see docs/development.md,
 * "Tests"): the exports of a run, and of earlier runs while the exporter's code is unchanged.
 */
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * The export stages every suite may reuse: `<dir>/export/<key>`, keyed on the model folder, the
 * articles, the shapes and the exporter's code (not the commit), so a stage here is what a fresh
 * export would give. Kept across runs (ignored by git); tests/support/e2e-setup.ts bounds its size.
 */
export const SHARED_EXPORT_ROOT = process.env.TRTFORGE_TEST_EXPORTS ?? join(ROOT, ".tools", "test-work");

declare module "vitest" {
  export interface ProvidedContext {
    /** A work dir of this run only (every stage), for suites that run the very same build. */
    trtforgeRunWorkDir: string;
  }
}

/**
 * `work` made as a build's work dir whose `export/` is the shared one: a build there reuses an
 * export another suite (or an earlier run) made with the same inputs, and a new export lands where
 * later suites find it. The pipeline's stage reuse needs nothing else: a stage is found by its key.
 * Suites that test the export stage itself, or what a work dir holds, use a plain work dir instead.
 */
export async function workDirSharingExports(work: string): Promise<string> {
  return workDirSharingStages(work, ["export"]);
}

/**
 * `work` with each of `stages` (folders of a work dir: "export", "cpu-serving", "int8", ...) linked
 * to the shared one, as workDirSharingExports does for the exports: for suites that run the same
 * stage with the same inputs as another suite, where that stage's work is not what they test. Every
 * stage is content-keyed and written atomically, so suites running at once at worst both compute it.
 */
export async function workDirSharingStages(work: string, stages: readonly string[]): Promise<string> {
  await mkdir(work, { recursive: true });
  for (const stage of stages) {
    await mkdir(join(SHARED_EXPORT_ROOT, stage), { recursive: true });
    await symlink(join(SHARED_EXPORT_ROOT, stage), join(work, stage), "dir");
  }
  return work;
}

/**
 * The run's shared work dir (its exports linked as above): builds with identical requests take
 * turns through the pipeline's build lock there, so the second reuses every stage of the first.
 */
export function runWorkDir(): string {
  const dir = inject("trtforgeRunWorkDir") as string | undefined;
  if (dir === undefined) {
    throw new Error("no shared work dir of this run: list the suite in E2E of vitest.config.ts, whose globalSetup makes it");
  }
  return dir;
}
