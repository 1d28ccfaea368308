import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./cli-helpers.js";
import {
  dependencyProblems,
  importsOf,
  readManifest,
  workspacePackageDirs,
  type ImportSite,
  type Manifest,
} from "./support/package-imports.js";

/*
 * How the root package.json counts. Its devDependencies list every workspace package, so that the
 * suites under tests/ and benchmarks/ can import them; letting a package's own tests lean on that
 * would make an undeclared workspace import invisible. So a package declares every workspace
 * package and library its src or tests import, and only the shared test tooling below (no
 * workspace packages) may come from the root without being declared by each package.
 */
const rootManifest = readManifest(ROOT);
const SHARED_TEST_TOOLS = new Set(["vitest", "fast-check"]);
/** Root devDependencies used other than by import, with why. */
const ROOT_TOOLS: Record<string, string> = {
  typescript: "tsc -b builds every package",
  vite: "the peer dependency of vitest",
  "@types/node": "Node's types for every package",
  "@trtforge/cli": "puts build-engine, verify-engine and model-store on the root's PATH",
  eslint: "the linter scripts/lint.sh runs",
  "typescript-eslint": "eslint.config.js: the TypeScript-aware rules",
  "@eslint/js": "eslint.config.js: ESLint's recommended rules",
  "eslint-config-prettier": "eslint.config.js: turns off rules that Prettier owns",
  globals: "eslint.config.js: Node's globals for the .mjs scripts",
  prettier: "the formatter scripts/lint.sh checks",
};

/** The root package's own files: the repository-wide suites, benchmarks and scripts. */
function rootSites(): ImportSite[] {
  return ["tests", "benchmarks", "scripts"].flatMap((folder) =>
    importsOf(join(ROOT, folder)).map((s) => ({ ...s, file: join(folder, s.file), scope: "dev" as const })),
  );
}

describe("declared dependencies", () => {
  const dirs = workspacePackageDirs(ROOT);

  it("finds every package of the workspace (packages/* and native)", () => {
    expect(dirs.length).toBeGreaterThanOrEqual(16);
    expect(dirs).toContain(join(ROOT, "native"));
  });

  it.each(dirs.map((dir) => [dir.slice(ROOT.length + 1), dir]))("%s imports exactly what its package.json declares", (_name, dir) => {
    const sites = importsOf(dir);
    expect(sites.length).toBeGreaterThan(0);
    expect(dependencyProblems(readManifest(dir), sites, { sharedTestTools: SHARED_TEST_TOOLS })).toEqual([]);
  });

  // tsc -b builds a package after the packages its tsconfig references; a workspace dependency
  // missing there builds against a stale or absent dist/.
  it.each(dirs.map((dir) => [dir.slice(ROOT.length + 1), dir]))(
    "%s references in tsconfig.json exactly its workspace dependencies",
    (_name, dir) => {
      const manifest = readManifest(dir);
      const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as { references?: { path: string }[] };
      const referenced = (tsconfig.references ?? []).map((r) => readManifest(resolve(dir, r.path)).name).sort();
      const workspaceDeps = Object.entries(manifest.dependencies ?? {})
        .filter(([, v]) => v.startsWith("workspace:"))
        .map(([name]) => name)
        .sort();
      expect(referenced).toEqual(workspaceDeps);
    },
  );

  it("root tests, benchmarks and scripts import only what the root declares, and the root declares nothing unused", () => {
    const problems = dependencyProblems(rootManifest, rootSites(), { sharedTestTools: new Set() }).filter((p) => {
      const unused = / declares (\S+), which no file/.exec(p)?.[1];
      if (unused === undefined) return true;
      if (ROOT_TOOLS[unused] !== undefined) return false;
      // Shared test tooling is used by the packages' tests rather than by the root's own files.
      return !(SHARED_TEST_TOOLS.has(unused) && dirs.some((dir) => importsOf(dir).some((s) => s.name === unused)));
    });
    expect(problems).toEqual([]);
  });

  it("pins every external dependency exactly, to one version across the workspace", () => {
    const versions = new Map<string, Set<string>>();
    for (const manifest of [rootManifest, ...dirs.map(readManifest)]) {
      for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
        if (version.startsWith("workspace:")) continue;
        expect(version, `${manifest.name}: ${name}@${version} is not an exact version`).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
        versions.set(name, (versions.get(name) ?? new Set()).add(version));
      }
    }
    const split = [...versions].filter(([, v]) => v.size > 1).map(([name, v]) => `${name}: ${[...v].join(", ")}`);
    expect(split).toEqual([]);
  });
});

describe("the dependency comparison", () => {
  const dir = mkdtempSync(join(tmpdir(), "trtforge-deps-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    "src/index.ts",
    `import { z } from "zod";\nimport type { X } from "@trtforge/core";\nexport const lazy = () => import("execa");\nexport * from "./local.js";\nimport { readFileSync } from "node:fs";\n`,
  );
  write("src/version.ts", `const require = createRequire(import.meta.url);\nrequire.resolve("onnxruntime-node/package.json");\n`);
  write("test/a.test.ts", `import { it } from "vitest";\nimport fc from "fast-check";\nimport { x } from "@trtforge/articles";\n`);
  write("dist/index.js", `import "should-not-count";\n`);

  it("reports undeclared imports (src, dynamic, type-only, require.resolve, test) and unused declarations", () => {
    const manifest: Manifest = {
      name: "@trtforge/made-up",
      dependencies: { zod: "4.6.7", semver: "7.8.6" },
      devDependencies: { execa: "9.6.1", "@types/semver": "7.7.1" },
    };
    const problems = dependencyProblems(manifest, importsOf(dir), { sharedTestTools: new Set(["vitest"]) });
    expect(problems.sort()).toEqual(
      [
        "@trtforge/made-up: src/index.ts imports @trtforge/core, which package.json does not declare (add it to dependencies)",
        "@trtforge/made-up: src/index.ts imports execa at run time, but package.json has it under devDependencies only (move it to dependencies)",
        "@trtforge/made-up: src/version.ts imports onnxruntime-node, which package.json does not declare (add it to dependencies)",
        "@trtforge/made-up: test/a.test.ts imports fast-check, which package.json does not declare (add it to devDependencies)",
        "@trtforge/made-up: test/a.test.ts imports @trtforge/articles, which package.json does not declare (add it to devDependencies)",
        "@trtforge/made-up: package.json declares semver, which no file of the package imports (remove it)",
        "@trtforge/made-up: package.json declares @types/semver, which no file of the package imports (remove it)",
      ].sort(),
    );
  });
});
