import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root: the nearest folder above this module holding pnpm-workspace.yaml. conf/,
 * toolchain_versions.md and the pinned Python environment are found from it, whatever the
 * caller's working directory. `TRTFORGE_ROOT` overrides it (for installs outside the repository).
 */
export function projectRoot(): string {
  const override = process.env.TRTFORGE_ROOT;
  if (override) return resolve(override);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
