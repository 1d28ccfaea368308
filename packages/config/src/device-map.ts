import { join } from "node:path";
import { projectRoot, type ForgeError } from "@trtforge/core";
import { parseEngineName, PRECISIONS } from "@trtforge/engine-format";
import { closestNames } from "./closest-names.js";
import { DEVICE_ID_RULE, DEVICE_MAP_SCHEMA_RULES, deviceMapFileSchema } from "./device-map-schema.js";
import { locatedError } from "./located-error.js";
import { schemaError } from "./schema-issues.js";
import { readYamlFile, type YamlFile } from "./yaml-file.js";

export interface DeviceMap {
  /** The file the map was read from, as given. */
  path: string;
  defaultDevice: number | undefined;
  /** Engine file name to its GPU ids (one or more), in file order. */
  devices: ReadonlyMap<string, readonly number[]>;
  /** The GPUs of an engine: its own entry, else the default device, else none. */
  devicesFor(engineName: string): readonly number[];
}

export interface DeviceMapOptions {
  /** Engine names that exist (built or configured); a key outside them is reported as unknown. */
  knownEngines?: Iterable<string>;
  /** GPUs on this host; device ids must be below it. */
  gpuCount?: number;
}

export const DEVICE_MAP_FILE = "conf/engine_device_map.yaml";

export function defaultDeviceMapPath(): string {
  return join(projectRoot(), DEVICE_MAP_FILE);
}

export async function loadDeviceMap(path: string = defaultDeviceMapPath(), options: DeviceMapOptions = {}): Promise<DeviceMap> {
  const file = await readYamlFile(path, "reading engine device map");
  return deviceMapFromYaml(file, options);
}

/** Validates an already parsed device map; split from the loader so it has no I/O. */
export function deviceMapFromYaml(file: YamlFile, options: DeviceMapOptions = {}): DeviceMap {
  const parsed = deviceMapFileSchema.safeParse(file.data);
  if (!parsed.success) throw schemaError(file, parsed.error.issues, DEVICE_MAP_SCHEMA_RULES);
  const knownEngines = options.knownEngines === undefined ? undefined : new Set(options.knownEngines);
  const defaultDevice = parsed.data.default_device;
  if (defaultDevice !== undefined) assertDeviceExists(file, ["default_device"], defaultDevice, options.gpuCount);

  const devices = new Map<string, readonly number[]>();
  for (const [engineName, entry] of Object.entries(parsed.data.engines ?? {})) {
    assertEngineName(file, engineName);
    if (knownEngines !== undefined && !knownEngines.has(engineName)) throw unknownEngineError(file, engineName, knownEngines);
    const ids = typeof entry === "number" ? [entry] : entry;
    ids.forEach((device, i) =>
      assertDeviceExists(file, typeof entry === "number" ? ["engines", engineName] : ["engines", engineName, i], device, options.gpuCount),
    );
    const repeated = ids.find((device, i) => ids.indexOf(device) !== i);
    if (repeated !== undefined) {
      throw locatedError(file, "INVALID_DEVICE_ID", ["engines", engineName], {
        problem: `names GPU ${repeated} twice`,
        allowed: "distinct GPU ids: the engine is served once on each",
        fix: `remove the repeated ${repeated}`,
      });
    }
    devices.set(engineName, ids);
  }
  return {
    path: file.path,
    defaultDevice,
    devices,
    devicesFor: (engineName) => devices.get(engineName) ?? (defaultDevice === undefined ? [] : [defaultDevice]),
  };
}

function assertEngineName(file: YamlFile, engineName: string): void {
  try {
    parseEngineName(engineName);
  } catch (err) {
    throw locatedError(
      file,
      "INVALID_ENGINE_NAME",
      ["engines", engineName],
      {
        problem: "is not a valid engine name",
        allowed: `<task>.<model>-<hf-rev>-trt-<trt-ver>-<precision>.engine, precision one of ${PRECISIONS.join(", ")}, as build-engine names its output`,
        fix: "use the engine's file name exactly as build-engine wrote it (ls the engine folder), or remove the entry",
      },
      { target: "key", cause: err },
    );
  }
}

function unknownEngineError(file: YamlFile, engineName: string, knownEngines: ReadonlySet<string>): ForgeError {
  const closest = closestNames(engineName, knownEngines, 3);
  const fix =
    closest.length === 0
      ? "no engine is known, so remove the entry (or build the engine first)"
      : `use a known engine name; closest: ${closest.map((name) => `"${name}"`).join(", ")}; or remove the entry`;
  return locatedError(
    file,
    "UNKNOWN_ENGINE",
    ["engines", engineName],
    {
      problem: "is not a known engine",
      allowed: `one of the ${knownEngines.size} known engine names`,
      fix,
    },
    { target: "key", details: { closest } },
  );
}

function assertDeviceExists(file: YamlFile, path: PropertyKey[], device: number, gpuCount: number | undefined): void {
  if (gpuCount === undefined || device < gpuCount) return;
  const allowed =
    gpuCount === 0
      ? "none: this host has no GPU"
      : `an integer from 0 to ${gpuCount - 1} (this host has ${gpuCount} GPU${gpuCount === 1 ? "" : "s"})`;
  throw locatedError(file, DEVICE_ID_RULE.code, path, {
    problem: `is ${device}`,
    allowed,
    fix: gpuCount === 0 ? "run on a host with a GPU" : `set it to a GPU id from 0 to ${gpuCount - 1}, or remove it`,
  });
}
