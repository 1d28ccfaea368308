import type { IoTensor } from "../binding-types.js";
import { nativeError } from "./values.js";

/** The bytes the fake writes for a plan and a timing cache, and reads back. */
export const FAKE_PLAN_MARKER = "TRTFORGE-FAKE-PLAN\n";
export const FAKE_TIMING_CACHE_PREFIX = "TRTFORGE-FAKE-TIMING-CACHE entries=";
const PLAN_VERSION_OFFSET = 24;
const PLAN_PAYLOAD_OFFSET = 32;

export interface FakePlanPayload {
  trtVersion: string;
  precision: string;
  typing: string;
  ioTensors: IoTensor[];
  inspectorJson: string;
}

function versionBytes(version: string): number[] {
  const parts = version.split(".").map((p) => Number(p));
  return [0, 1, 2, 3].map((i) => (Number.isInteger(parts[i]) ? parts[i]! & 0xff : 0));
}

/** "ftrt", zeros, the version at 24..27, zeros to 32, then the marker and a JSON payload. */
export function makeFakePlan(payload: FakePlanPayload): Buffer {
  const header = Buffer.alloc(PLAN_PAYLOAD_OFFSET);
  header.write("ftrt", 0, "ascii");
  Buffer.from(versionBytes(payload.trtVersion)).copy(header, PLAN_VERSION_OFFSET);
  return Buffer.concat([header, Buffer.from(FAKE_PLAN_MARKER + JSON.stringify(payload), "utf8")]);
}

export function readFakePlan(bytes: Uint8Array, loadedVersion: string): FakePlanPayload {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 4 || buffer.subarray(0, 4).toString("ascii") !== "ftrt") {
    throw nativeError(
      "ENGINE_LOAD_FAILED",
      'TensorRT could not deserialize the engine (the bytes do not start with the TensorRT plan magic "ftrt": not a serialized engine, or a trtforge marker engine)',
    );
  }
  if (buffer.length >= 28) {
    const planVersion = Array.from(buffer.subarray(PLAN_VERSION_OFFSET, PLAN_VERSION_OFFSET + 4)).join(".");
    if (planVersion !== versionBytes(loadedVersion).join(".")) {
      throw nativeError(
        "ENGINE_LOAD_FAILED",
        `TensorRT could not deserialize the engine (the plan was built by TensorRT ${planVersion}, this process loaded TensorRT ${loadedVersion}; plans load only in the TensorRT version that built them unless built version-compatible)`,
      );
    }
  }
  const marker = Buffer.from(FAKE_PLAN_MARKER, "utf8");
  if (
    buffer.length < PLAN_PAYLOAD_OFFSET + marker.length ||
    !buffer.subarray(PLAN_PAYLOAD_OFFSET, PLAN_PAYLOAD_OFFSET + marker.length).equals(marker)
  ) {
    throw nativeError("ENGINE_LOAD_FAILED", "TensorRT could not deserialize the engine (the fake addon loads only plans that it built)");
  }
  return JSON.parse(buffer.subarray(PLAN_PAYLOAD_OFFSET + marker.length).toString("utf8")) as FakePlanPayload;
}

export function readFakeTimingCache(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined || bytes === null) return 0;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.startsWith(FAKE_TIMING_CACHE_PREFIX)) return undefined;
  const n = Number(text.slice(FAKE_TIMING_CACHE_PREFIX.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
