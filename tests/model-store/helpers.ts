import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI_BIN = join(REPO_ROOT, "packages", "cli", "bin", "model-store.js");
export const LIBRARY = join(REPO_ROOT, "packages", "model-store", "dist", "index.js");

/** The CLI runs from dist/: these tests need `tsc -b packages/model-store packages/cli` first. */
export function assertBuilt(): void {
  for (const file of [LIBRARY, join(REPO_ROOT, "packages", "cli", "dist", "model-store-cli.js")]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run tsc -b packages/model-store packages/cli before these tests`);
  }
}

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDir(prefix = "model-store-e2e-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON document (undefined if it is not); tests index into it freely. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env: { ...process.env, LOG_LEVEL: "info", ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1;
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}

export type TreeSnapshot = Record<string, string>;

/** Everything about a tree that a change would touch: types, modes, sizes, contents, link targets, mtimes. */
export async function snapshotTree(root: string): Promise<TreeSnapshot> {
  const out: TreeSnapshot = {};
  const visit = async (path: string, rel: string): Promise<void> => {
    const info = await lstat(path);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) out[rel] = `symlink -> ${await readlink(path)}`;
    else if (info.isDirectory()) {
      out[rel] = `dir ${mode} mtime=${info.mtimeMs}`;
      for (const name of (await readdir(path)).sort()) await visit(join(path, name), `${rel}/${name}`);
    } else {
      out[rel] = `file ${mode} ${info.size} mtime=${info.mtimeMs} sha256=${createHash("sha256")
        .update(await readFile(path))
        .digest("hex")}`;
    }
  };
  await visit(root, ".");
  return out;
}

/** The all-MiniLM-L6-v2 folder, fetched by scripts/fetch-test-model.sh when absent. */
export function testModelFolder(): string {
  const folder = join(REPO_ROOT, ".tools", "models", "all-MiniLM-L6-v2");
  if (existsSync(join(folder, "config.json"))) return folder;
  const fetched = spawnSync("bash", [join(REPO_ROOT, "scripts", "fetch-test-model.sh")], { encoding: "utf8" });
  if (fetched.status !== 0) throw new Error(`scripts/fetch-test-model.sh failed: ${fetched.stderr}`);
  return fetched.stdout.trim().split("\n").pop() as string;
}
