export * from "./errors.js";
export * from "./logger.js";
export * from "./hashing.js";
export * from "./atomic-write.js";
export * from "./atomic-folder.js";
export * from "./project-root.js";
export * from "./printable.js";
export type { OnProgress, ProgressEvent } from "./progress.js";
export * from "./float16.js";
