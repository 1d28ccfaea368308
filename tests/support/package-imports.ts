/**
 * What each workspace package imports, compared with what its package.json declares. Used by
 * tests/dependencies.test.ts; kept apart so that the comparison itself can be tested on made-up
 * packages.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative, sep } from "node:path";
import ts from "typescript";

export interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * `runtime`: src/ and bin/, what a user of the package runs: only `dependencies` may serve it.
 * `dev`: tests, build and install scripts, binding.gyp: `dependencies` or `devDependencies`.
 */
export type Scope = "runtime" | "dev";

export interface ImportSite {
  /** The package name, e.g. "zod" or "@trtforge/core". */
  name: string;
  file: string;
  scope: Scope;
}

const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js|gyp)$/;
const SKIPPED_FOLDERS = new Set(["node_modules", "dist", "build", "coverage"]);
const BUILTINS = new Set(builtinModules);

/** Every package.json of the workspace's packages: packages/* and native/, whatever exists now. */
export function workspacePackageDirs(root: string): string[] {
  const packages = readdirSync(join(root, "packages"))
    .map((name) => join(root, "packages", name))
    .filter((dir) => existsSync(join(dir, "package.json")));
  return [...packages, join(root, "native")].filter((dir) => existsSync(join(dir, "package.json"))).sort();
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** The package a bare specifier names ("@scope/a/b" → "@scope/a", "a/b" → "a"); undefined for relative paths and Node built-ins. */
export function packageOfSpecifier(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  return BUILTINS.has(name) ? undefined : name;
}

/** Specifiers of static and dynamic imports, re-exports, require() and require.resolve(). */
export function specifiersIn(text: string, fileName: string): string[] {
  // In binding.gyp, node -p "require('x')" runs at configure time.
  if (fileName.endsWith(".gyp")) return [...text.matchAll(/require\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  const found = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  // require.resolve locates a package without importing it (a version lookup, a tool's path).
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === "resolve" &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === "require" &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false));
  return found;
}

function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (SKIPPED_FOLDERS.has(entry) || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...filesUnder(path));
    else if (SOURCE_FILE.test(entry)) files.push(path);
  }
  return files;
}

function scopeOf(relativePath: string): Scope {
  const top = relativePath.split(sep)[0];
  return top === "src" || top === "bin" ? "runtime" : "dev";
}

/** The packages imported from a package's own files (not its node_modules, dist or build output). */
export function importsOf(dir: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const file of filesUnder(dir)) {
    const rel = relative(dir, file);
    for (const specifier of specifiersIn(readFileSync(file, "utf8"), file)) {
      const name = packageOfSpecifier(specifier);
      if (name !== undefined) sites.push({ name, file: rel, scope: scopeOf(rel) });
    }
  }
  return sites;
}

export interface CheckOptions {
  /** Packages a package's dev-scope files may use without declaring them (root test tooling). */
  sharedTestTools: ReadonlySet<string>;
}

/**
 * Both directions: an import the package.json does not declare (in `dependencies` for runtime
 * files), and a declared dependency nothing imports. `@types/x` counts as used when `x` is
 * imported (`@types/node`: when any file of the package exists).
 */
export function dependencyProblems(manifest: Manifest, sites: readonly ImportSite[], options: CheckOptions): string[] {
  const problems: string[] = [];
  const runtime = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }));
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
  const reported = new Set<string>();
  for (const site of sites) {
    if (site.name === manifest.name) continue;
    const declared = runtime.has(site.name) || (site.scope === "dev" && (dev.has(site.name) || options.sharedTestTools.has(site.name)));
    const key = `${site.name} ${site.scope}`;
    if (declared || reported.has(key)) continue;
    reported.add(key);
    problems.push(
      site.scope === "runtime" && dev.has(site.name)
        ? `${manifest.name}: ${site.file} imports ${site.name} at run time, but package.json has it under devDependencies only (move it to dependencies)`
        : `${manifest.name}: ${site.file} imports ${site.name}, which package.json does not declare (add it to ${site.scope === "runtime" ? "dependencies" : "devDependencies"})`,
    );
  }
  const used = new Set(sites.map((s) => s.name));
  for (const name of [...runtime, ...dev]) {
    const typesOf = name.startsWith("@types/") ? name.slice("@types/".length).replace(/^(.+)__(.+)$/, "@$1/$2") : undefined;
    const isUsed = typesOf === undefined ? used.has(name) : typesOf === "node" ? sites.length > 0 : used.has(typesOf);
    if (!isUsed) problems.push(`${manifest.name}: package.json declares ${name}, which no file of the package imports (remove it)`);
  }
  return problems;
}
