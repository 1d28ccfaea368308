// The few NVML entry points the sampler reads, bound at run time through koffi (whose prebuilt
// binary ships in its npm package), so nothing is compiled and hosts without the NVIDIA driver
// load this module fine: only openNvml() fails there.
import koffi from "koffi";

/** NVML_SUCCESS and the codes this package tells apart (nvml.h). */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;

/** NVML_DEVICE_UUID_V2_BUFFER_SIZE and NVML_DEVICE_NAME_V2_BUFFER_SIZE are 96. */
const TEXT_BUFFER_BYTES = 96;

export interface NvmlMemory {
  total: number;
  used: number;
}

export interface Nvml {
  init(): number;
  shutdown(): number;
  deviceCount(): { status: number; count: number };
  handle(index: number): { status: number; device: unknown };
  uuid(device: unknown): { status: number; text: string };
  name(device: unknown): { status: number; text: string };
  memory(device: unknown): { status: number; memory: NvmlMemory };
  utilizationGpu(device: unknown): { status: number; percent: number };
  errorString(status: number): string;
}

function cString(buffer: Buffer): string {
  const end = buffer.indexOf(0);
  return buffer.toString("utf8", 0, end < 0 ? buffer.length : end);
}

/** A function a newer driver exports and an older one may lack. */
function optionalFunction<T>(bind: () => T): T | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/** Loads libnvidia-ml and binds its functions; throws where the library cannot be loaded. */
export function openNvml(libraryPath: string): Nvml {
  const lib = koffi.load(libraryPath);
  const device = koffi.pointer("nvmlDevice_t", koffi.opaque("nvmlDevice_st"));
  const memoryType = koffi.struct("nvmlMemory_t", { total: "uint64", free: "uint64", used: "uint64" });
  // v2 splits the driver's reserved memory out of `used`, as nvidia-smi reports it (seen on an
  // H100, driver 580: v1 said 480 MiB used on an idle GPU where nvidia-smi said 0).
  const memoryV2Type = koffi.struct("nvmlMemory_v2_t", {
    version: "uint32",
    total: "uint64",
    reserved: "uint64",
    free: "uint64",
    used: "uint64",
  });
  // NVML_STRUCT_VERSION(Memory, 2): the struct's size with the version in the top byte.
  const memoryV2Version = (koffi.sizeof(memoryV2Type) | (2 << 24)) >>> 0;
  const utilizationType = koffi.struct("nvmlUtilization_t", { gpu: "uint32", memory: "uint32" });
  const init = lib.func("nvmlInit_v2", "int", []);
  const shutdown = lib.func("nvmlShutdown", "int", []);
  const getCount = lib.func("nvmlDeviceGetCount_v2", "int", [koffi.out(koffi.pointer("uint32"))]);
  const getHandle = lib.func("nvmlDeviceGetHandleByIndex_v2", "int", ["uint32", koffi.out(koffi.pointer(device))]);
  const getUuid = lib.func("nvmlDeviceGetUUID", "int", [device, koffi.out(koffi.pointer("char")), "uint32"]);
  const getName = lib.func("nvmlDeviceGetName", "int", [device, koffi.out(koffi.pointer("char")), "uint32"]);
  const getMemory = lib.func("nvmlDeviceGetMemoryInfo", "int", [device, koffi.out(koffi.pointer(memoryType))]);
  const getMemoryV2 = optionalFunction(() =>
    lib.func("nvmlDeviceGetMemoryInfo_v2", "int", [device, koffi.inout(koffi.pointer(memoryV2Type))]),
  );
  const getUtilization = lib.func("nvmlDeviceGetUtilizationRates", "int", [device, koffi.out(koffi.pointer(utilizationType))]);
  const errorString = lib.func("nvmlErrorString", "str", ["int"]);

  const text = (fn: typeof getUuid, handle: unknown) => {
    const buffer = Buffer.alloc(TEXT_BUFFER_BYTES);
    const status = fn(handle, buffer, TEXT_BUFFER_BYTES) as number;
    return { status, text: status === NVML_SUCCESS ? cString(buffer) : "" };
  };
  return {
    init: () => init() as number,
    shutdown: () => shutdown() as number,
    deviceCount: () => {
      const out = [0];
      const status = getCount(out) as number;
      return { status, count: Number(out[0]) };
    },
    handle: (index) => {
      const out: unknown[] = [null];
      const status = getHandle(index, out) as number;
      return { status, device: out[0] };
    },
    uuid: (handle) => text(getUuid, handle),
    name: (handle) => text(getName, handle),
    memory: (handle) => {
      if (getMemoryV2 !== undefined) {
        const io: { version: number; total: number | bigint; reserved: number | bigint; free: number | bigint; used: number | bigint } = {
          version: memoryV2Version,
          total: 0,
          reserved: 0,
          free: 0,
          used: 0,
        };
        const status = getMemoryV2(handle, io) as number;
        if (status === NVML_SUCCESS) return { status, memory: { total: Number(io.total), used: Number(io.used) } };
      }
      // Drivers before v2 (older than R510) only have v1, whose `used` includes reserved memory.
      const out: { total?: number | bigint; used?: number | bigint } = {};
      const status = getMemory(handle, out) as number;
      return { status, memory: { total: Number(out.total ?? 0), used: Number(out.used ?? 0) } };
    },
    utilizationGpu: (handle) => {
      const out: { gpu?: number } = {};
      const status = getUtilization(handle, out) as number;
      return { status, percent: Number(out.gpu ?? 0) };
    },
    errorString: (status) => String(errorString(status) ?? `NVML error ${status}`),
  };
}
