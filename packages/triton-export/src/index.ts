export {
  exportTriton,
  type ExportedModel,
  type ExportTritonOptions,
  type ExportTritonResult,
  type SkippedPlan,
  type VersionSelection,
} from "./export.js";
export { readVersionMap, VERSION_MAP_FILE, VersionMapSchema, type VersionEntry, type VersionMap } from "./version-map.js";
export { toPbtxt } from "./pbtxt.js";
