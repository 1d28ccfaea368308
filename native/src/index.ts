export * from "./loader.js";
export { isNativeError } from "./binding-types.js";
