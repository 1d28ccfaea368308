import { digestTree } from "./checksum.js";
import { pathKind } from "@trtforge/fs-kit";
import { walkTree } from "./tree-walk.js";

/**
 * JustNewsAgent's ModelStore.compute_checksum(path): sha256 over each file's relative path then its
 * bytes, manifest.json files skipped; "" when the path does not exist. Subfolders are visited in
 * sorted order (the original uses OS order).
 */
export async function computeChecksum(path: string): Promise<string> {
  if ((await pathKind(path)) === "missing") return "";
  return (await digestTree(await walkTree(path, { dirSymlinks: "skip" }), { perFile: false })).checksum;
}
