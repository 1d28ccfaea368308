export { formatKeyPath, type KeyPath } from "./key-path.js";
export { parseYamlText, readYamlFile, type YamlFile } from "./yaml-file.js";
export { locatePath, type PathLocation, type SourcePosition } from "./yaml-position.js";
export { locatedError, type LocatedErrorOptions, type ProblemText } from "./located-error.js";
export { closestNames, editDistance } from "./closest-names.js";
export { AGENT_PATTERN, MAX_BATCH_SIZE_LIMIT, MAX_SEQ_LEN_LIMIT, MODEL_INPUTS, modelsConfigJsonSchema } from "./models-schema.js";
export type { ModelInput, ModelOutput, ModelSpec, OutputDim } from "./model-spec.js";
export {
  defaultModelsConfigPath,
  engineNameFor,
  loadModelsConfig,
  MODELS_CONFIG_FILE,
  modelsConfigFromYaml,
  type ModelsConfig,
} from "./models-config.js";
export { deviceMapJsonSchema } from "./device-map-schema.js";
export {
  DEVICE_MAP_FILE,
  defaultDeviceMapPath,
  deviceMapFromYaml,
  loadDeviceMap,
  type DeviceMap,
  type DeviceMapOptions,
} from "./device-map.js";
