import { performance } from "node:perf_hooks";
import { ForgeError } from "@trtforge/core";
import { digestFiles, digestTree } from "./checksum.js";
import { agentNotFound, currentProblem, readCurrentState } from "./current.js";
import { isDirectory } from "@trtforge/fs-kit";
import { isFinalManifest, requireManifest, storeFields, type Manifest } from "./manifest.js";
import { assertStoreName } from "./names.js";
import { AgentPaths, MANIFEST_NAME } from "./paths.js";
import { storeSettings, type StoreOptions } from "./settings.js";
import { requireRoot } from "./store-root.js";
import { walkTree, type TreeFile } from "./tree-walk.js";

export interface VerifyProblem {
  /** Relative path inside the version ("" when the bad file cannot be named). */
  file: string;
  kind: "modified" | "missing" | "extra" | "manifest" | "checksum";
  expected?: string;
  actual?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  agent: string;
  version: string;
  path: string;
  expectedChecksum: string;
  actualChecksum: string;
  fileCount: number;
  totalBytes: number;
  seconds: number;
  /** False for manifests without per-file hashes (JustNewsAgent's): a mismatch can then not be traced to a file. */
  perFileRecorded: boolean;
  problems: VerifyProblem[];
  firstBadFile?: string;
}

export interface LocatedVersion {
  agent: string;
  version: string;
  path: string;
  layout: "versions" | "legacy" | "directory";
}

/** A named version (versions/<v>, or the legacy folder `current` points at) or, without a name, the current one. */
export async function locateVersion(paths: AgentPaths, version: string | undefined): Promise<LocatedVersion> {
  const state = await readCurrentState(paths);
  if (state.state === "no-agent") throw agentNotFound(paths);
  if (version === undefined) {
    if (state.state !== "ok") throw currentProblem(paths, state);
    return { agent: paths.agent, version: state.current.version, path: state.current.path, layout: state.current.layout };
  }
  const path = paths.versionDir(version);
  if (await isDirectory(path)) return { agent: paths.agent, version, path, layout: "versions" };
  if (state.state === "ok" && state.current.layout !== "versions" && state.current.version === version) {
    return { agent: paths.agent, version, path: state.current.path, layout: state.current.layout };
  }
  throw new ForgeError("STORE_VERSION_NOT_FOUND", `agent "${paths.agent}" has no version "${version}" in ${paths.root}`, {
    input: path,
    fix: `list the versions with: model-store list --agent ${paths.agent}`,
  });
}

function problemOrder(files: readonly TreeFile[]): (p: VerifyProblem) => number {
  const index = new Map(files.map((f, i) => [f.relPath, i]));
  return (p) => (p.kind === "manifest" ? -1 : (index.get(p.file) ?? files.length));
}

/** Recomputes the checksum of a published folder against its manifest and names the files that differ. */
export async function verifyTree(located: LocatedVersion, manifest: Manifest): Promise<VerifyReport> {
  const started = performance.now();
  const problems: VerifyProblem[] = [];
  if (!isFinalManifest(manifest)) {
    problems.push({ file: MANIFEST_NAME, kind: "manifest", message: "manifest.json is an unfinished staging manifest (no checksum)" });
  } else if (located.layout === "versions" && manifest.version !== located.version) {
    problems.push({
      file: MANIFEST_NAME,
      kind: "manifest",
      message: `manifest.json names version "${manifest.version}", but the folder is "${located.version}" (renamed or copied by hand?)`,
    });
  }
  const files = (await walkTree(located.path, { dirSymlinks: "skip" })).filter((f) => f.relPath !== MANIFEST_NAME);
  const recorded = storeFields(manifest.metadata).files;
  const flagged = new Set<string>();
  if (recorded !== undefined) {
    const present = new Set(files.map((f) => f.relPath));
    for (const file of files) {
      const expected = recorded[file.relPath];
      if (expected === undefined) {
        problems.push({ file: file.relPath, kind: "extra", message: `${file.relPath} is not in the manifest (added after publishing)` });
        flagged.add(file.relPath);
      } else if (expected.size !== file.size) {
        problems.push({
          file: file.relPath,
          kind: "modified",
          expected: `${expected.size} bytes`,
          actual: `${file.size} bytes`,
          message: `${file.relPath} has ${file.size} bytes, the manifest says ${expected.size}`,
        });
        flagged.add(file.relPath);
      }
    }
    for (const name of Object.keys(recorded)) {
      if (!present.has(name)) problems.push({ file: name, kind: "missing", message: `${name} is listed in the manifest but missing` });
    }
  }
  const digest = await digestTree(files, { perFile: false });
  // Files named manifest.json below the top are outside the JustNewsAgent checksum; their own hashes cover them.
  const unchecked = files.filter((f) => !f.inChecksum || (digest.checksum !== manifest.checksum && !flagged.has(f.relPath)));
  if (recorded !== undefined && unchecked.length > 0) {
    const hashes = await digestFiles(unchecked.filter((f) => recorded[f.relPath] !== undefined && !flagged.has(f.relPath)));
    for (const [file, actual] of hashes) {
      const expected = recorded[file];
      if (expected !== undefined && expected.sha256 !== actual.sha256) {
        problems.push({
          file,
          kind: "modified",
          expected: expected.sha256,
          actual: actual.sha256,
          message: `${file} differs from the manifest (sha256 ${actual.sha256}, expected ${expected.sha256})`,
        });
      }
    }
  }
  if (digest.checksum !== manifest.checksum && problems.every((p) => p.kind === "manifest")) {
    problems.push({
      file: "",
      kind: "checksum",
      expected: manifest.checksum,
      actual: digest.checksum,
      message:
        recorded === undefined
          ? "the checksum differs; this manifest has no per-file hashes (written by JustNewsAgent?), so the changed file cannot be named"
          : "the checksum differs although every file matches its recorded hash (the manifest was edited?)",
    });
  }
  const order = problemOrder(files);
  problems.sort((a, b) => order(a) - order(b));
  const firstBad = problems.find((p) => p.file !== "" && p.kind !== "manifest")?.file;
  return {
    ok: problems.length === 0,
    agent: located.agent,
    version: located.version,
    path: located.path,
    expectedChecksum: manifest.checksum,
    actualChecksum: digest.checksum,
    fileCount: digest.fileCount,
    totalBytes: digest.totalBytes,
    seconds: (performance.now() - started) / 1000,
    perFileRecorded: recorded !== undefined,
    problems,
    ...(firstBad === undefined ? {} : { firstBadFile: firstBad }),
  };
}

export interface VerifyOptions extends StoreOptions {
  agent: string;
  /** Default: the current version. */
  version?: string;
}

/** Recomputes a version's checksums. Never throws for a mismatch: check `ok` (or call assertVerified). */
export async function verifyVersion(options: VerifyOptions): Promise<VerifyReport> {
  const agent = assertStoreName("agent", options.agent);
  const version = options.version === undefined ? undefined : assertStoreName("version", options.version);
  const settings = storeSettings(options);
  await requireRoot(settings.root);
  const located = await locateVersion(new AgentPaths(settings.root, agent), version);
  const { manifest } = await requireManifest(located.path, `version "${located.version}" of agent "${agent}"`);
  const report = await verifyTree(located, manifest);
  settings.log.debug({ agent, version: located.version, ok: report.ok, seconds: report.seconds }, "verified");
  return report;
}

/** Turns a failed report into STORE_CHECKSUM_MISMATCH naming the first bad file. */
export function assertVerified(report: VerifyReport): void {
  if (report.ok) return;
  const first = report.problems[0];
  const where = report.firstBadFile === undefined ? "" : `: first bad file ${report.firstBadFile}`;
  throw new ForgeError(
    "STORE_CHECKSUM_MISMATCH",
    `version "${report.version}" of agent "${report.agent}" is damaged${where} (${first?.message ?? "checksum differs"})`,
    {
      input: report.firstBadFile === undefined ? report.path : `${report.path}/${report.firstBadFile}`,
      fix: "restore the version from a backup or republish it under a new name; do not serve it (model-store rollback --to <good version> switches current away)",
      details: { report },
    },
  );
}
