import { z } from "zod";
import type { KeyPath } from "./key-path.js";
import type { SchemaRules, ValueRule } from "./schema-issues.js";

export const DEVICE_ID_RULE: ValueRule = {
  code: "INVALID_DEVICE_ID",
  allowed: "a GPU id: an integer >= 0, in CUDA device order (as nvidia-smi lists the GPUs)",
  fix: 'write the GPU id as a bare integer such as 0 (no "gpu" or "cuda:" prefix)',
};

const ENGINES_RULE: ValueRule = {
  code: "CONFIG_INVALID",
  allowed:
    "a mapping of engine file name to a GPU id or a list of GPU ids, e.g. <task>.<model>-<hf-rev>-trt-<trt-ver>-<precision>.engine: 0 (or: [0, 1])",
};

const DEVICE_LIST_RULE: ValueRule = {
  code: "INVALID_DEVICE_ID",
  allowed: "a GPU id, or a non-empty list of distinct GPU ids such as [0, 1] (the engine is served on each)",
  fix: "write one GPU id, or a list like [0, 1] without repeats",
};

const deviceId = z.int().min(0).describe(DEVICE_ID_RULE.allowed);
/** One GPU, or several: the engine is loaded on each and requests are spread over them. */
const deviceIds = z.union([deviceId, z.array(deviceId).min(1)]).describe(DEVICE_LIST_RULE.allowed);

/** The shape of conf/engine_device_map.yaml; engine names and GPU counts are checked after it. */
export const deviceMapFileSchema = z
  .strictObject({
    version: z.literal(1).describe("1 (the only format version)"),
    default_device: deviceId.optional().describe("The GPU of engines that are not listed; without it they get none"),
    // `engines:` with every entry commented out reads as null: an empty map, not an error.
    engines: z.record(z.string(), deviceIds).nullable().describe(ENGINES_RULE.allowed),
  })
  .meta({ title: "trtforge conf/engine_device_map.yaml", description: "Which GPU serves each TensorRT engine" });

export type DeviceMapFile = z.infer<typeof deviceMapFileSchema>;

export const DEVICE_MAP_SCHEMA_RULES: SchemaRules = {
  ruleFor(path: KeyPath): ValueRule | undefined {
    if (path[0] === "default_device" || (path[0] === "engines" && path.length === 3)) return DEVICE_ID_RULE;
    if (path[0] === "engines" && path.length === 2) return DEVICE_LIST_RULE;
    if (path[0] === "engines") return ENGINES_RULE;
    if (path[0] === "version") return { code: "CONFIG_INVALID", allowed: "1 (the only format version)" };
    if (path.length === 0) {
      return {
        code: "CONFIG_INVALID",
        allowed: "a mapping with version, engines and optional default_device",
        fix: 'start the file with "version: 1" and an engines mapping; see docs/config.md',
      };
    }
    return undefined;
  },
  knownKeys: () => Object.keys(deviceMapFileSchema.shape),
};

/** JSON Schema of conf/engine_device_map.yaml, for editors and other tools. */
export function deviceMapJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(deviceMapFileSchema) as Record<string, unknown>;
}
