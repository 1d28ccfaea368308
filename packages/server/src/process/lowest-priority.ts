import { readdirSync } from "node:fs";
import { constants, setPriority } from "node:os";

/**
 * ONNX Runtime threads of the shadow worker's session: at nice 19 it only takes idle CPU anyway,
 * and one thread keeps its caches and memory traffic off the primary's cores.
 */
export const SHADOW_INTRA_OP_THREADS = 1;

/** The nice value of the shadow worker: the lowest CPU priority there is. */
export const SHADOW_NICE = constants.priority.PRIORITY_LOW;

/**
 * Lowers this process to nice 19, for the shadow worker, before anything starts ONNX Runtime. On
 * Linux nice belongs to each thread, not to the process: setpriority(0) moves only the calling
 * thread, and threads it starts afterwards (ONNX Runtime's pools, libuv's on first use) inherit
 * it. So the main thread goes first, then every thread already running (Node's own, listed in
 * /proc/self/task) is moved one by one. Returns why it could not, or undefined; the caller logs
 * it and carries on at normal priority rather than not comparing at all.
 */
export function lowerToLowestPriority(): string | undefined {
  lowered = { failure: lower() };
  return lowered.failure;
}

let lowered: { failure: string | undefined } | undefined;

/** Whether lowerToLowestPriority ran in this process, and why it failed if it did. */
export function loweredPriority(): { failure: string | undefined } | undefined {
  return lowered;
}

function lower(): string | undefined {
  try {
    setPriority(0, SHADOW_NICE);
  } catch (err) {
    return (err as Error).message;
  }
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    // Not Linux: the process priority set above covers its threads.
    return undefined;
  }
  const failed: string[] = [];
  for (const task of tasks) {
    try {
      setPriority(Number(task), SHADOW_NICE);
    } catch (err) {
      // A thread may have ended since the listing: only one still there counts.
      if ((err as { info?: { code?: string } }).info?.code !== "ESRCH") failed.push(`thread ${task}: ${(err as Error).message}`);
    }
  }
  return failed.length === 0 ? undefined : failed.join("; ");
}
