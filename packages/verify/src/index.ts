export * from "./problems.js";
export * from "./runtime-compat.js";
export * from "./engine-bytes.js";
export * from "./verify-engine.js";
export * from "./format-report.js";
