export { errnoCode, isErrno } from "./errno.js";
export {
  applyMode,
  directoriesDeepestFirst,
  DIR_MODE,
  emptyTrash,
  FILE_MODE,
  isDirectory,
  makeSharedDir,
  makeSharedDirs,
  pathKind,
  removeViaTrash,
  sleep,
  syncFile,
  type PathKind,
} from "./fs-util.js";
export { withWaitLock, type WaitLockOptions } from "./wait-lock.js";
export {
  currentProcessIdentity,
  taggedWriterLiveness,
  writerLiveness,
  writerTag,
  type Liveness,
  type WriterIdentity,
} from "./process-identity.js";
export { compareCodePoints } from "./code-point-order.js";
