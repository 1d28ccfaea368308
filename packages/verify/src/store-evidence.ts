import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { sha256Hex } from "@trtforge/core";
import { buildFacts, readManifest, storeFields } from "@trtforge/model-store";

export interface StoreEvidence {
  manifest: string;
  /** sha256 of the engine file as published, if the manifest lists it. */
  engine?: string;
  /** Whether the sidecar is byte-for-byte the published one (undefined: not listed). */
  sidecarAsPublished?: boolean;
  /** The sidecar as the manifest recorded it and as it is now (undefined: not listed). */
  sidecar?: { published: { sha256: string; size?: number }; now: { sha256: string; size: number } | null };
  /** The profile's largest [batch, sequence] as the manifest records it (build versions only). */
  maxShape?: [number, number];
}

async function fileFacts(path: string): Promise<{ sha256: string; size: number } | null> {
  try {
    const bytes = await readFile(path);
    return { sha256: sha256Hex(bytes), size: bytes.length };
  } catch {
    return null;
  }
}

/** What the store manifest beside the engine (the version folder's manifest.json) recorded, if there is one. */
export async function readStoreEvidence(enginePath: string, sidecarPath: string): Promise<StoreEvidence | undefined> {
  // The store's own reading of its manifest, lenient field by field, so that verify-engine stays
  // usable on any folder: no manifest, or one without a files list, is simply no evidence.
  const read = await readManifest(dirname(enginePath));
  if (read.state !== "ok") return undefined;
  const manifest = read.path;
  const files = storeFields(read.manifest.metadata).files;
  if (files === undefined) return undefined;
  const engine = files[basename(enginePath)]?.sha256;
  const published = dirname(sidecarPath) === dirname(enginePath) ? files[basename(sidecarPath)] : undefined;
  const sidecar = published === undefined ? undefined : { published, now: await fileFacts(sidecarPath) };
  const maxShape = buildFacts(read.manifest.metadata).shapes?.max;
  return {
    manifest,
    ...(engine === undefined ? {} : { engine }),
    ...(sidecar === undefined ? {} : { sidecar, sidecarAsPublished: sidecar.now?.sha256 === sidecar.published.sha256 }),
    ...(maxShape === undefined ? {} : { maxShape }),
  };
}

/**
 * The CHECKSUM_MISMATCH message: the sidecar and the file disagree, naming both values; which one
 * changed is said only where the store manifest tells.
 */
export function checksumMismatchMessage(
  enginePath: string,
  fileSha256: string,
  sidecarSha256: string,
  evidence: StoreEvidence | undefined,
): string {
  const base = `the sidecar's checksum (${sidecarSha256}) and the sha256 of ${enginePath} (${fileSha256}) disagree`;
  if (evidence === undefined || (evidence.engine === undefined && evidence.sidecarAsPublished === undefined)) {
    return `${base}: either the engine file or its sidecar changed after the build (no store manifest beside them to tell which)`;
  }
  const parts: string[] = [];
  if (evidence.engine === fileSha256) parts.push("the store manifest agrees with the file, so the sidecar's checksum was edited");
  else if (evidence.engine === sidecarSha256)
    parts.push("the store manifest agrees with the sidecar, so the engine file changed after it was published");
  else if (evidence.engine !== undefined) parts.push(`the store manifest agrees with neither (it says ${evidence.engine})`);
  if (evidence.sidecarAsPublished === false) parts.push("the sidecar differs from the published one");
  if (evidence.sidecarAsPublished === true) parts.push("the sidecar is the published one");
  return `${base}; ${parts.join("; ")} (${evidence.manifest})`;
}
