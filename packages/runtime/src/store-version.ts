import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError, fsError, parseJsonText, type Logger } from "@trtforge/core";
import { assertVerified, MANIFEST_NAME, ManifestSchema, storeFields, verifyVersion } from "@trtforge/model-store";

/** Where a served model comes from: `<agent>` (its current version) or `<agent>@<version>`. */
export interface ModelSource {
  /** The store root; undefined for MODEL_STORE_ROOT. */
  storeRoot?: string;
  agent: string;
  /** Undefined: the version `current` points at when the model is opened. */
  version?: string;
}

/** A store version whose manifest checksum has just been verified. */
export interface VerifiedVersion {
  agent: string;
  version: string;
  path: string;
  /** The manifest's free-form metadata (the pipeline writes engine, model_id, hf_revision there). */
  metadata: Record<string, unknown>;
  /** sha256 of each file as the manifest records it (verified equal to the bytes on disk). */
  fileSha256: ReadonlyMap<string, string>;
  /** Every file of the version, relative, "/"-separated. */
  files: readonly string[];
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * Verifies the version's manifest checksum before anything in it is read: a damaged version is
 * refused (STORE_CHECKSUM_MISMATCH naming the first bad file), never served.
 */
export async function openVerifiedVersion(source: ModelSource, logger: Logger): Promise<VerifiedVersion> {
  const report = await verifyVersion({
    agent: source.agent,
    ...(source.version === undefined ? {} : { version: source.version }),
    ...(source.storeRoot === undefined ? {} : { root: source.storeRoot }),
    logger,
  });
  assertVerified(report);
  const manifestPath = join(report.path, MANIFEST_NAME);
  let text: string;
  try {
    text = await readFile(manifestPath, "utf8");
  } catch (err) {
    throw fsError(err, manifestPath, "reading the version's manifest");
  }
  // verifyVersion has just read and checked this manifest; what is read here is its metadata.
  const parsed = ManifestSchema.safeParse(parseJsonText(text, manifestPath, "republish the version"));
  const metadata = parsed.success ? parsed.data.metadata : {};
  const fileSha256 = new Map(Object.entries(storeFields(metadata).files ?? {}).map(([file, entry]) => [file, entry.sha256]));
  const files = (await listFiles(report.path)).filter((f) => f !== MANIFEST_NAME);
  if (files.length === 0) {
    throw new ForgeError("MODEL_UNSERVABLE", `version "${report.version}" of agent "${report.agent}" holds no files`, {
      input: report.path,
      fix: "publish a version built by build-engine",
    });
  }
  return { agent: report.agent, version: report.version, path: report.path, metadata, fileSha256, files };
}
