import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveCurrent, VERSIONS_DIR } from "@trtforge/model-store";
import type { ModelRef } from "./model-ref.js";

/**
 * The engine file each model's version holds (build-engine's name, the device map's key), or
 * undefined where the version has none or cannot be read yet (the worker then reports why).
 */
export async function engineNamesOf(storeRoot: string, models: readonly ModelRef[]): Promise<Map<string, string | undefined>> {
  const names = new Map<string, string | undefined>();
  for (const model of models) {
    const folder =
      model.version !== undefined
        ? join(storeRoot, model.agent, VERSIONS_DIR, model.version)
        : (await resolveCurrent({ agent: model.agent, root: storeRoot, strict: false }).catch(() => undefined))?.path;
    const files = folder === undefined ? [] : await readdir(folder).catch(() => [] as string[]);
    names.set(
      model.agent,
      files.find((file) => file.endsWith(".engine")),
    );
  }
  return names;
}
