export * from "./precision.js";
export * from "./trt-version.js";
export * from "./naming.js";
export * from "./metadata.js";
export * from "./legacy.js";
export * from "./marker.js";
export * from "./plan-header.js";
export * from "./sidecar.js";
