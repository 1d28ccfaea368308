export * from "./builder-info.js";
export * from "./engine-target.js";
export * from "./profile-shapes.js";
export * from "./marker-build.js";
