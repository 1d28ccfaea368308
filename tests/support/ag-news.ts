/**
 * The AG News test split kept in the repository (data/ag_news/, see its README for source and
 * licence). Tests and benchmarks read real news text from here, never from outside the clone.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");
export const AG_NEWS_CSV = join(REPO_ROOT, "data", "ag_news", "test.csv");
const AG_NEWS_SHA256 = "d2a2cef4dfeb21ca17b463fd15e9e5a639c05823d03efabb3d28a75bbfe8d915";

let checked = false;

/** The path of the AG News test CSV, after checking it is the committed file; a clear error if not. */
export function agNewsCsv(): string {
  if (checked) return AG_NEWS_CSV;
  if (!existsSync(AG_NEWS_CSV)) {
    throw new Error(
      `the AG News test split is missing at ${AG_NEWS_CSV}: it is part of the repository (data/ag_news/); ` +
        "restore it with `git checkout -- data/ag_news` (a sparse or partial clone must include data/)",
    );
  }
  const sha = createHash("sha256").update(readFileSync(AG_NEWS_CSV)).digest("hex");
  if (sha !== AG_NEWS_SHA256) {
    throw new Error(
      `${AG_NEWS_CSV} is not the committed AG News test split (sha256 ${sha}, expected ${AG_NEWS_SHA256}): restore it with \`git checkout -- data/ag_news\``,
    );
  }
  checked = true;
  return AG_NEWS_CSV;
}
