import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ForgeError } from "@trtforge/core";

/** The file at the repository's top that records which Triton version number each store version got. */
export const VERSION_MAP_FILE = "trtforge-versions.json";

const VersionEntrySchema = z.strictObject({
  number: z.number().int().positive(),
  model_id: z.string().nullable(),
  revision: z.string().nullable(),
  trt_version: z.string().nullable(),
  checksum: z.string(),
});
export type VersionEntry = z.infer<typeof VersionEntrySchema>;

export const VersionMapSchema = z.strictObject({
  format: z.literal("trtforge-triton-repository/1"),
  store_root: z.string(),
  /** Agent → store version → its entry. Entries stay after their version leaves the export, so a number is never reused. */
  agents: z.record(z.string(), z.record(z.string(), VersionEntrySchema)),
});
export type VersionMap = z.infer<typeof VersionMapSchema>;

export function emptyVersionMap(storeRoot: string): VersionMap {
  return { format: "trtforge-triton-repository/1", store_root: storeRoot, agents: {} };
}

/**
 * The mapping of an existing repository written by this exporter; undefined when `dir` holds none.
 * A folder without the file is "not ours" (the caller decides whether --force may replace it).
 */
export async function readVersionMap(dir: string): Promise<VersionMap | undefined> {
  const path = join(dir, VERSION_MAP_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(path, `is not JSON: ${(err as Error).message}`);
  }
  const parsed = VersionMapSchema.safeParse(json);
  if (!parsed.success) throw invalid(path, `is not a version mapping:\n${z.prettifyError(parsed.error)}`);
  for (const [agent, versions] of Object.entries(parsed.data.agents)) {
    const seen = new Map<number, string>();
    for (const [version, entry] of Object.entries(versions)) {
      const other = seen.get(entry.number);
      if (other !== undefined && other !== version && !sameBuild(versions[other]!, entry))
        throw invalid(path, `gives number ${entry.number} of agent "${agent}" to both "${other}" and "${version}"`);
      seen.set(entry.number, version);
    }
  }
  return parsed.data;
}

function invalid(path: string, reason: string): ForgeError {
  return new ForgeError("TRITON_VERSION_MAP_INVALID", `${path} ${reason}`, {
    input: path,
    fix: "restore the file from the previous export, or export into a new folder (numbers are then assigned afresh)",
  });
}

/**
 * Two store versions share a Triton version only when they hold the same build for different GPUs
 * (cc_model_filenames): same model, revision and TensorRT version.
 */
function sameBuild(a: VersionEntry, b: VersionEntry): boolean {
  return a.model_id === b.model_id && a.revision === b.revision && a.trt_version === b.trt_version;
}

/**
 * Numbers for `versions` (oldest first): an already mapped version keeps its number, a new one gets
 * the agent's highest number so far plus one (or the number of the group it joins). Returns the
 * updated map; the input is not changed.
 */
export function assignNumbers(
  map: VersionMap,
  agent: string,
  versions: ReadonlyArray<{ version: string; entry: Omit<VersionEntry, "number">; group?: string }>,
): VersionMap {
  const known: Record<string, VersionEntry> = { ...(map.agents[agent] ?? {}) };
  let highest = Math.max(0, ...Object.values(known).map((e) => e.number));
  const groupNumbers = new Map<string, number>();
  for (const v of versions) {
    const existing = known[v.version];
    if (existing !== undefined && v.group !== undefined) groupNumbers.set(v.group, existing.number);
  }
  for (const v of versions) {
    const existing = known[v.version];
    if (existing !== undefined) {
      known[v.version] = { ...v.entry, number: existing.number };
      continue;
    }
    let number = v.group === undefined ? undefined : groupNumbers.get(v.group);
    if (number === undefined) {
      highest += 1;
      number = highest;
      if (v.group !== undefined) groupNumbers.set(v.group, number);
    }
    known[v.version] = { ...v.entry, number };
  }
  return { ...map, agents: { ...map.agents, [agent]: known } };
}
