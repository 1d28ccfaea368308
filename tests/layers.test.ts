import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli-helpers.js";
import { layerProblems, parseLayerTable, pathImportsIntoPackages, type LayeredPackage } from "./support/layers.js";
import { importsOf, readManifest, specifiersIn, workspacePackageDirs, type ImportSite } from "./support/package-imports.js";

// The order lives in docs/development.md's layout table; this suite reads it from there, so the
// page and the check cannot drift apart.
const table = parseLayerTable(readFileSync(join(ROOT, "docs/development.md"), "utf8"));

describe("the layer rule of docs/development.md", () => {
  const dirs = workspacePackageDirs(ROOT);

  it("places every workspace package once", () => {
    const names = table.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(dirs.map((dir) => readManifest(dir).name.replace("@trtforge/", "")).sort());
  });

  it("holds for every package: imports go down the table, build and serve never meet, every import is declared", () => {
    const problems = layerProblems(
      table,
      dirs.map((dir) => ({ manifest: readManifest(dir), sites: importsOf(dir) })),
    );
    expect(problems).toEqual([]);
  });

  it("benchmarks and root scripts import packages by name, not by a path into packages/", () => {
    const sites = ["benchmarks", "scripts"].flatMap((folder) =>
      readdirSync(join(ROOT, folder))
        .filter((file) => /\.[cm]?[jt]s$/.test(file))
        .flatMap((file) => {
          const path = join(ROOT, folder, file);
          return specifiersIn(readFileSync(path, "utf8"), path).map((specifier) => ({ specifier, file: `${folder}/${file}` }));
        }),
    );
    expect(sites.length).toBeGreaterThan(0);
    expect(pathImportsIntoPackages(sites)).toEqual([]);
  });
});

describe("the layer check itself", () => {
  const fixtureTable: LayeredPackage[] = parseLayerTable(
    [
      "| layer | package | owns |",
      "|---|---|---|",
      "| base | `core` | errors |",
      "| facts | `store`, `meta` | the store |",
      "| build | `pipeline` | builds |",
      "| serve | `runtime` | serving |",
      "| front | `cli` | commands |",
      "",
    ].join("\n"),
  );
  const pkg = (name: string, deps: string[], imports: string[], file = "src/index.ts") => ({
    manifest: { name: `@trtforge/${name}`, dependencies: Object.fromEntries(deps.map((d) => [`@trtforge/${d}`, "workspace:*"])) },
    sites: imports.map((d): ImportSite => ({ name: `@trtforge/${d}`, file, scope: file.startsWith("src") ? "runtime" : "dev" })),
  });

  it("reads layers and order from the table", () => {
    expect(fixtureTable.map((p) => `${p.layer}:${p.name}:${p.rank}`)).toEqual([
      "base:core:0",
      "facts:store:1",
      "facts:meta:2",
      "build:pipeline:3",
      "serve:runtime:4",
      "front:cli:5",
    ]);
  });

  it("passes imports that go down the table", () => {
    expect(
      layerProblems(fixtureTable, [
        pkg("runtime", ["core", "meta"], ["core", "meta"]),
        pkg("cli", ["pipeline", "runtime"], ["pipeline", "runtime"]),
      ]),
    ).toEqual([]);
  });

  it("fails on runtime importing pipeline and pipeline importing runtime, though one is above the other", () => {
    expect(
      layerProblems(fixtureTable, [
        pkg("runtime", ["pipeline"], ["pipeline"]),
        pkg("pipeline", ["runtime"], ["runtime"], "test/a.test.ts"),
      ]),
    ).toEqual([
      "@trtforge/runtime (serve): src/index.ts uses @trtforge/pipeline (build); the serve and build layers never import each other",
      "@trtforge/pipeline (build): test/a.test.ts uses @trtforge/runtime (serve); the build and serve layers never import each other",
    ]);
  });

  it("fails on an import up the table, and on one within a layer that goes up its list", () => {
    expect(layerProblems(fixtureTable, [pkg("core", ["cli"], ["cli"]), pkg("store", ["meta"], ["meta"])])).toEqual([
      "@trtforge/core (base): src/index.ts uses @trtforge/cli (front), which is not above it in the layer table; imports only go down the table",
      "@trtforge/store (facts): src/index.ts uses @trtforge/meta (facts), which is not above it in the layer table; imports only go down the table",
    ]);
  });

  it("fails on an undeclared import, on a declaration against the direction, and on a package the table omits", () => {
    expect(layerProblems(fixtureTable, [pkg("pipeline", [], ["store"]), pkg("meta", ["pipeline"], []), pkg("extra", [], [])])).toEqual([
      "@trtforge/pipeline: src/index.ts imports @trtforge/store, which its package.json does not declare",
      "@trtforge/meta (facts): package.json uses @trtforge/pipeline (build), which is not above it in the layer table; imports only go down the table",
      "@trtforge/extra: not in the layer table of docs/development.md (add a row where it belongs)",
    ]);
  });

  it("fails on a root file that imports a package's dist/ by path", () => {
    expect(
      pathImportsIntoPackages([
        { specifier: "../packages/calibration/dist/index.js", file: "benchmarks/x.mjs" },
        { specifier: "@trtforge/calibration", file: "benchmarks/y.mjs" },
        { specifier: "./inputs.mjs", file: "benchmarks/z.mjs" },
      ]),
    ).toEqual([
      "benchmarks/x.mjs imports ../packages/calibration/dist/index.js; import the package by name (declare it in the root package.json)",
    ]);
  });
});
