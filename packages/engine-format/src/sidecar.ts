import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ForgeError, fsError, parseJsonText } from "@trtforge/core";
import { EngineMetadataSchema, type EngineMetadata } from "./metadata.js";
import { looksLegacy, readLegacySidecar, type LegacyReading } from "./legacy.js";

export type SidecarReading = { schema: "v1"; metadata: EngineMetadata } | { schema: "legacy"; legacy: LegacyReading };

/** Parses sidecar JSON text. A v1 document must validate fully; legacy ones are recognized, not trusted. */
export function parseSidecar(text: string, path: string): SidecarReading {
  const json = parseJsonText(text, path, "rewrite the metadata file, or rebuild the engine so that it is written anew");
  if (looksLegacy(json)) {
    const legacy = readLegacySidecar(json);
    if (legacy) return { schema: "legacy", legacy };
  }
  const parsed = EngineMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw new ForgeError("METADATA_INVALID", `${path} is not valid engine metadata v1:\n${z.prettifyError(parsed.error)}`, {
      input: path,
      fix: "compare it with docs/engine-metadata.v1.schema.json, or rebuild the engine",
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  return { schema: "v1", metadata: parsed.data };
}

export async function readSidecar(path: string): Promise<SidecarReading> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw fsError(err, path, "reading engine metadata");
  }
  return parseSidecar(text, path);
}

/** Stable, readable serialization: two-space indent and a final newline. */
export function serializeMetadata(metadata: EngineMetadata): string {
  return `${JSON.stringify(EngineMetadataSchema.parse(metadata), null, 2)}\n`;
}
