import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFolderAtomic } from "@trtforge/core";
import { holdStage } from "./work-dir-budget.js";
import { stageTempPrefix } from "./work-dir.js";

/**
 * A stage's output lives in `<work>/<stage>/<key>/` and counts as done only when its stage.json
 * exists: the folder is filled under a temporary name and renamed into place, so a crash or Ctrl-C
 * leaves either nothing or a complete result, and a run with the same key reuses it.
 */
export interface StageResult<T> {
  dir: string;
  reused: boolean;
  summary: T;
}

export const STAGE_FILE = "stage.json";

export async function runStage<T>(
  workRoot: string,
  stage: string,
  key: string,
  produce: (tempDir: string) => Promise<T>,
): Promise<StageResult<T>> {
  const dir = join(workRoot, stage, key);
  // Held before it is looked at, so that the work dir budget never removes it under this build.
  await holdStage(workRoot, stage, key);
  if (existsSync(join(dir, STAGE_FILE))) {
    return { dir, reused: true, summary: JSON.parse(await readFile(join(dir, STAGE_FILE), "utf8")) as T };
  }
  await mkdir(join(workRoot, stage), { recursive: true });
  // A folder without stage.json is an unfinished result of an older run: removed before the work.
  if (existsSync(dir) && !existsSync(join(dir, STAGE_FILE))) await rm(dir, { recursive: true, force: true });
  let summary: T;
  try {
    summary = await writeFolderAtomic(
      dir,
      async (temp) => {
        const produced = await produce(temp);
        await writeFile(join(temp, STAGE_FILE), `${JSON.stringify(produced, null, 2)}\n`);
        return produced;
      },
      // The writer's tag in the temp name lets the next run remove a killed run's folder at once.
      // Never replacing: another build sharing the work dir may be reading a result it finished first.
      { replace: false, tempPrefix: stageTempPrefix(dir) },
    );
  } catch (err) {
    // The same key produced meanwhile by another build (the rename found the folder taken): equal by key, so it is used.
    if (!existsSync(join(dir, STAGE_FILE))) throw err;
    return { dir, reused: true, summary: JSON.parse(await readFile(join(dir, STAGE_FILE), "utf8")) as T };
  }
  await holdStage(workRoot, stage, key); // the LRU clock starts at completion
  return { dir, reused: false, summary };
}
