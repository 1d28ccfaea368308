import { ForgeError } from "@trtforge/core";
import { assertVerified, resolveModelFolder, verifyVersion } from "@trtforge/model-store";

/** The model a build starts from. */
export interface ModelSource {
  folder: string;
  modelId: string | undefined;
  revision: string | undefined;
  /** "store:<agent>@<version>" when it came from the ModelStore. */
  storeRef: string | undefined;
  /**
   * The folder's computeChecksum where verifying the store version already computed it (a flat
   * version, whose folder is the model); undefined otherwise, and the export stage hashes it.
   */
  checksum?: string;
}

const STORE_REF = /^store:([^@]+)(?:@(.+))?$/;

/**
 * A model given as a local Hugging Face folder, or `store:<agent>[@<version>]`, which resolves
 * through the ModelStore (the agent's `current` unless a version is named), brings the model id and
 * revision recorded there, and is verified against its manifest first: a damaged version is refused
 * with its first bad file named, before anything is built from it.
 */
export async function resolveModelSource(ref: string, storeRoot: string | undefined): Promise<ModelSource> {
  const match = STORE_REF.exec(ref);
  if (!match) return { folder: ref, modelId: undefined, revision: undefined, storeRef: undefined };
  const [, agent, version] = match;
  const root = storeRoot ? { root: storeRoot } : {};
  const resolved = await resolveModelFolder({ agent: agent!, ...(version ? { version } : {}), ...root, strict: true });
  if (!resolved) {
    throw new ForgeError("STORE_NOT_A_MODEL", `${ref} does not resolve to a model folder`, {
      input: ref,
      fix: "import one with `model-store import-hf --agent <agent> --model <folder>`",
    });
  }
  const verified = await verifyVersion({ agent: resolved.agent, version: resolved.version, ...root });
  assertVerified(verified);
  return {
    folder: resolved.folder,
    modelId: resolved.modelId,
    revision: resolved.revision,
    storeRef: `store:${resolved.agent}@${resolved.version}`,
    // verifyVersion digests the version folder as computeChecksum does (manifest.json files skipped).
    ...(verified.path === resolved.folder ? { checksum: verified.actualChecksum } : {}),
  };
}
