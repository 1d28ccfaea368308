import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { projectRoot } from "@trtforge/core";

export interface BuilderInfo {
  name: string;
  version: string;
  git_commit: string | null;
}

const BUILDER_VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

/**
 * Which build of this tool made an artifact. The commit is read from git when the tool runs from
 * a checkout, or from TRTFORGE_GIT_COMMIT for installs without .git; otherwise it is null.
 */
export async function builderInfo(): Promise<BuilderInfo> {
  const fromEnv = process.env.TRTFORGE_GIT_COMMIT;
  if (fromEnv && /^[0-9a-f]{7,40}$/.test(fromEnv)) return { name: "trtforge", version: BUILDER_VERSION, git_commit: fromEnv };
  try {
    const { stdout } = await promisify(execFile)("git", ["rev-parse", "HEAD"], { cwd: projectRoot(), timeout: 5000 });
    const commit = stdout.trim();
    return { name: "trtforge", version: BUILDER_VERSION, git_commit: /^[0-9a-f]{40}$/.test(commit) ? commit : null };
  } catch {
    return { name: "trtforge", version: BUILDER_VERSION, git_commit: null };
  }
}
