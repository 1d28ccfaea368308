export * from "./builder-info.js";
export * from "./engine-target.js";
export * from "./profile-shapes.js";
export * from "./engine-artifact.js";
export * from "./layer-precisions.js";
export * from "./trt-build.js";
export * from "./trtrtx-build.js";
