import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_NAME, ManifestSchema, resolveCurrent, VERSIONS_DIR } from "@trtforge/model-store";
import { engineFileOf } from "@trtforge/runtime";
import type { ModelRef } from "./model-ref.js";

/** The manifest's metadata, or {} where it cannot be read (the worker, which verifies, reports why). */
async function manifestMetadata(folder: string): Promise<Record<string, unknown>> {
  try {
    const parsed = ManifestSchema.safeParse(JSON.parse(await readFile(join(folder, MANIFEST_NAME), "utf8")));
    return parsed.success ? parsed.data.metadata : {};
  } catch {
    return {};
  }
}

/**
 * The engine file each model's version holds (build-engine's name, the device map's key), chosen as
 * the worker will choose it (engineFileOf), or undefined where the version has none or cannot be
 * read yet (the worker then reports why).
 */
export async function engineNamesOf(storeRoot: string, models: readonly ModelRef[]): Promise<Map<string, string | undefined>> {
  const names = new Map<string, string | undefined>();
  for (const model of models) {
    const folder =
      model.version !== undefined
        ? join(storeRoot, model.agent, VERSIONS_DIR, model.version)
        : (await resolveCurrent({ agent: model.agent, root: storeRoot, strict: false }).catch(() => undefined))?.path;
    if (folder === undefined) {
      names.set(model.agent, undefined);
      continue;
    }
    const files = await readdir(folder).catch(() => [] as string[]);
    names.set(model.agent, engineFileOf(files, await manifestMetadata(folder)));
  }
  return names;
}
