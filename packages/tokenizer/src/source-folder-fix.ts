/**
 * Where a tokenizer file is fixed. A model loaded from the ModelStore lives in a finalized,
 * checksummed version: editing it in place would break its manifest, so the fix goes into the
 * model's own folder, imported again as a new version.
 */
export const SOURCE_FOLDER_FIX =
  "in the model's own folder (for a ModelStore model: a copy of it, imported again with model-store import-hf as a new version; a finalized store version is never edited)";
