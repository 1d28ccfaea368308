import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ForgeError, SHA256_HEX, writeFileAtomic } from "@trtforge/core";
import { applyMode, FILE_MODE } from "@trtforge/fs-kit";
import { MANIFEST_NAME } from "./paths.js";
import { isErrno } from "./store-errors.js";

/** Identity of the process that staged or published a version: enough to tell later whether it is still alive. */
export const WriterIdentitySchema = z.looseObject({
  pid: z.number().int().positive(),
  hostname: z.string().min(1),
  boot_id: z.string().optional(),
  /** Process start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is not mistaken for the writer. */
  start_ticks: z.number().int().nonnegative().optional(),
});
export type WriterIdentity = z.infer<typeof WriterIdentitySchema>;

export const StagingRecordSchema = z.looseObject({
  token: z.string().min(8),
  writer: WriterIdentitySchema,
  started_at: z.string(),
});
export type StagingRecord = z.infer<typeof StagingRecordSchema>;

export const FileRecordSchema = z.strictObject({
  sha256: z.string().regex(SHA256_HEX),
  size: z.number().int().nonnegative(),
});

/** `{version, checksum, metadata}`: JustNewsAgent's ModelManifest.to_dict(); metadata is free-form there. */
export const ManifestSchema = z.looseObject({
  version: z.string().min(1),
  checksum: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

const FilesSchema = z.record(z.string(), FileRecordSchema);

/**
 * The keys this store adds to the metadata, read leniently: manifests written by JustNewsAgent
 * (`metadata: {}`) or by hand may lack them or use the same names for other things; such a key is
 * then ignored rather than making the whole manifest unreadable.
 */
export interface StoreFields {
  createdAt?: Date;
  files?: Record<string, z.infer<typeof FileRecordSchema>>;
  publisher?: WriterIdentity;
  staging?: StagingRecord;
  modelId?: string;
  revision?: string;
}

export function storeFields(metadata: Record<string, unknown>): StoreFields {
  const fields: StoreFields = {};
  const created = metadata.created_at;
  if (typeof created === "string" && !Number.isNaN(Date.parse(created))) fields.createdAt = new Date(created);
  const files = FilesSchema.safeParse(metadata.files);
  if (files.success) fields.files = files.data;
  const publisher = WriterIdentitySchema.safeParse(metadata.publisher);
  if (publisher.success) fields.publisher = publisher.data;
  const staging = StagingRecordSchema.safeParse(metadata.staging);
  if (staging.success) fields.staging = staging.data;
  if (typeof metadata.model_id === "string") fields.modelId = metadata.model_id;
  if (typeof metadata.hf_revision === "string") fields.revision = metadata.hf_revision;
  return fields;
}

/** Keys the store writes itself (promotions: model-store promote's record of each promotion with its evidence). */
export const RESERVED_METADATA_KEYS = ["created_at", "files", "file_count", "total_bytes", "publisher", "staging", "promotions"] as const;

export const UserMetadataSchema = z.record(z.string(), z.unknown()).superRefine((metadata, ctx) => {
  for (const key of RESERVED_METADATA_KEYS) {
    if (key in metadata) ctx.addIssue({ code: "custom", message: `metadata key "${key}" is set by the store itself` });
  }
});

export function parseUserMetadata(value: unknown, input = "metadata"): Record<string, unknown> {
  const parsed = UserMetadataSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new ForgeError("STORE_MANIFEST_INVALID", `invalid ${input}: ${z.prettifyError(parsed.error)}`, {
    input,
    fix: `pass a JSON object without the keys ${RESERVED_METADATA_KEYS.join(", ")}`,
  });
}

/** A staging manifest carries checksum "" (JustNewsAgent's value for "nothing hashed"); a final one a digest. */
export function isFinalManifest(manifest: Manifest): boolean {
  return SHA256_HEX.test(manifest.checksum);
}

export type ManifestRead =
  | { state: "ok"; manifest: Manifest; path: string; mtime: Date }
  | { state: "missing"; path: string }
  | { state: "invalid"; path: string; reason: string };

/** Reads `<dir>/manifest.json` without throwing for the ordinary problems, which callers report differently. */
export async function readManifest(dir: string): Promise<ManifestRead> {
  const path = join(dir, MANIFEST_NAME);
  let text: string;
  let mtime: Date;
  try {
    text = await readFile(path, "utf8");
    mtime = (await stat(path)).mtime;
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return { state: "missing", path };
    return { state: "invalid", path, reason: `cannot be read: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { state: "invalid", path, reason: `is not JSON: ${(err as Error).message}` };
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) return { state: "invalid", path, reason: `is not a store manifest:\n${z.prettifyError(parsed.error)}` };
  return { state: "ok", manifest: parsed.data, path, mtime };
}

/** Like readManifest, but a missing or broken manifest is an error naming the file. */
export async function requireManifest(dir: string, what: string): Promise<{ manifest: Manifest; mtime: Date }> {
  const read = await readManifest(dir);
  if (read.state === "ok") return read;
  const reason = read.state === "missing" ? "has no manifest.json" : `has a manifest.json that ${read.reason}`;
  throw new ForgeError("STORE_MANIFEST_INVALID", `${what} ${reason}`, {
    input: read.path,
    fix:
      read.state === "missing"
        ? "this folder was not published through the store (or is a legacy copy); republish it with model-store publish"
        : "restore manifest.json from a backup or republish the version; model-store verify will not trust this folder",
  });
}

/** Written with JustNewsAgent's indent of 2; atomic so a reader never sees half a manifest. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const path = join(dir, MANIFEST_NAME);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  await applyMode(path, FILE_MODE);
}
