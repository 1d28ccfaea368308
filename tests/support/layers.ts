/**
 * The layer rule of docs/development.md, read from that page and checked against what each
 * workspace package imports and declares. The page's table is the one copy of the order: a
 * package may import only packages listed above it, and the layers named in SEPARATE_LAYERS
 * never import each other in either direction. Kept apart from tests/layers.test.ts so that the
 * check itself can be tested on made-up packages.
 */
import type { ImportSite, Manifest } from "./package-imports.js";

export interface LayeredPackage {
  /** The short name, as the table writes it: `core`, `model-store`. */
  name: string;
  /** The layer's name from the table's first column (`base`, `build`, `serve`, ...). */
  layer: string;
  /** Position in the table, counting every package once; lower is further up. */
  rank: number;
}

/** The build side and the serving side never import each other (docs/development.md). */
export const SEPARATE_LAYERS: readonly (readonly [string, string])[] = [["build", "serve"]];

export const SCOPE = "@trtforge/";

/**
 * The rows of the "Layout" table: `| layer | package(s) | owns |`, where an empty layer cell
 * continues the layer above and a package cell may list several packages in backticks.
 */
export function parseLayerTable(markdown: string): LayeredPackage[] {
  const packages: LayeredPackage[] = [];
  let layer: string | undefined;
  let inTable = false;
  for (const line of markdown.split("\n")) {
    if (/^\|\s*layer\s*\|\s*package\s*\|/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (!line.startsWith("|")) {
      if (packages.length > 0) break;
      continue;
    }
    const cells = line.split("|").map((c) => c.trim());
    if (/^-+$/.test(cells[1] ?? "")) continue;
    layer = cells[1] !== "" ? cells[1] : layer;
    if (layer === undefined) throw new Error(`docs/development.md: the layer table's first row names no layer: ${line}`);
    for (const match of (cells[2] ?? "").matchAll(/`([^`]+)`/g)) {
      packages.push({ name: match[1]!, layer, rank: packages.length });
    }
  }
  return packages;
}

export interface LayerInput {
  manifest: Manifest;
  /** What the package's own files import (src, bin, tests, scripts). */
  sites: readonly ImportSite[];
}

/**
 * Problems with the layer rule, one line each: a workspace package imported but not declared, an
 * import or declaration of a package that is not above it in the table, one across separate
 * layers, and a package the table does not place.
 */
export function layerProblems(table: readonly LayeredPackage[], packages: readonly LayerInput[]): string[] {
  const byName = new Map(table.map((p) => [p.name, p]));
  const problems: string[] = [];
  const separated = (a: string, b: string): boolean => SEPARATE_LAYERS.some(([x, y]) => (a === x && b === y) || (a === y && b === x));
  for (const { manifest, sites } of packages) {
    const self = byName.get(shortName(manifest.name));
    if (self === undefined) {
      problems.push(`${manifest.name}: not in the layer table of docs/development.md (add a row where it belongs)`);
      continue;
    }
    const declared = new Set(
      Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })
        .filter(([name, version]) => name.startsWith(SCOPE) && version.startsWith("workspace:"))
        .map(([name]) => name),
    );
    const uses = new Map<string, string>();
    for (const site of sites) {
      if (!site.name.startsWith(SCOPE) || site.name === manifest.name) continue;
      if (!declared.has(site.name) && !uses.has(site.name)) {
        problems.push(`${manifest.name}: ${site.file} imports ${site.name}, which its package.json does not declare`);
      }
      if (!uses.has(site.name)) uses.set(site.name, site.file);
    }
    for (const name of declared) if (!uses.has(name)) uses.set(name, "package.json");
    for (const [name, where] of uses) {
      const other = byName.get(shortName(name));
      if (other === undefined) {
        problems.push(`${manifest.name}: ${where} uses ${name}, which the layer table of docs/development.md does not place`);
      } else if (separated(self.layer, other.layer)) {
        problems.push(
          `${manifest.name} (${self.layer}): ${where} uses ${name} (${other.layer}); the ${self.layer} and ${other.layer} layers never import each other`,
        );
      } else if (other.rank >= self.rank) {
        problems.push(
          `${manifest.name} (${self.layer}): ${where} uses ${name} (${other.layer}), which is not above it in the layer table; imports only go down the table`,
        );
      }
    }
  }
  return problems;
}

function shortName(name: string): string {
  return name.startsWith(SCOPE) ? name.slice(SCOPE.length) : name;
}

/** Relative specifiers in a root file (benchmark, script) that reach into a package's dist/ or src/ instead of naming the package. */
export function pathImportsIntoPackages(sites: readonly { specifier: string; file: string }[]): string[] {
  return sites
    .filter((s) => /^(?:\.\.?\/)+(?:packages\/[^/]+|native)\/(?:dist|src)\//.test(s.specifier))
    .map((s) => `${s.file} imports ${s.specifier}; import the package by name (declare it in the root package.json)`);
}
