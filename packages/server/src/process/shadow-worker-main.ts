/**
 * The shadow worker's entry: the process drops to nice 19 (lowest-priority.ts says why per thread)
 * before worker-main and its imports load ONNX Runtime, so every thread the candidate's session
 * starts inherits it; then it is worker-main in its shadow role.
 */
import { lowerToLowestPriority } from "./lowest-priority.js";

lowerToLowestPriority();
await import("./worker-main.js");
