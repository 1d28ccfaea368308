import type { HostTensor, IoTensor, NativeEngine, TensorData, TrtDataType } from "../binding-types.js";
import type { FakeAddonOptions } from "./options.js";
import type { FakePlanPayload } from "./plan.js";
import { isInteger, nativeError, shapeString, typeError } from "./values.js";

const TYPED_ARRAY: Record<TrtDataType, { ctor: new (length: number) => TensorData; name: string } | undefined> = {
  fp32: { ctor: Float32Array, name: "Float32Array" },
  fp16: { ctor: Uint16Array, name: "Uint16Array (fp16 bits)" },
  bf16: { ctor: Uint16Array, name: "Uint16Array (bf16 bits)" },
  int8: { ctor: Int8Array, name: "Int8Array" },
  int32: { ctor: Int32Array, name: "Int32Array" },
  int64: { ctor: BigInt64Array, name: "BigInt64Array" },
  uint8: { ctor: Uint8Array, name: "Uint8Array" },
  bool: { ctor: Uint8Array, name: "Uint8Array (0/1)" },
  fp8: { ctor: Uint8Array, name: "Uint8Array (fp8 bits)" },
  e8m0: undefined,
  int4: undefined,
  fp4: undefined,
};

/** The same input checks as native/src/run_worker.cc (INPUT_MISMATCH). */
function checkInputs(inputs: Record<string, HostTensor>, io: IoTensor[]): void {
  if (typeof inputs !== "object" || inputs === null) throw typeError("Engine.run: inputs must be an object {name: {data, shape}}");
  const declared = io.filter((t) => t.mode === "input");
  for (const input of declared) {
    const value = inputs[input.name];
    const what = `input ${input.name}`;
    if (value === undefined) throw nativeError("INPUT_MISMATCH", `Engine.run: input ${input.name} is missing`);
    if (typeof value !== "object" || value === null)
      throw nativeError("INPUT_MISMATCH", `${what} must be {data: TypedArray, shape: number[]}`);
    const expected = TYPED_ARRAY[input.dtype];
    if (expected === undefined)
      throw nativeError("INPUT_MISMATCH", `${what} has data type ${input.dtype}, which run() cannot feed (packed sub-byte types)`);
    if (!ArrayBuffer.isView(value.data) || value.data instanceof DataView)
      throw nativeError("INPUT_MISMATCH", `${what}.data must be a ${expected.name}`);
    if (value.data.constructor !== expected.ctor)
      throw nativeError("INPUT_MISMATCH", `${what} is ${input.dtype} in the engine: pass its data as a ${expected.name}`);
    if (!Array.isArray(value.shape)) throw nativeError("INPUT_MISMATCH", `${what}.shape must be an array of dimensions`);
    value.shape.forEach((d, i) => {
      if (!isInteger(d, 0, Number.MAX_SAFE_INTEGER)) throw nativeError("INPUT_MISMATCH", `${what}.shape[${i}] must be an integer >= 0`);
    });
    if (value.shape.length !== input.shape.length) {
      throw nativeError(
        "INPUT_MISMATCH",
        `${what} has shape ${shapeString(value.shape)} but the engine's input is ${shapeString(input.shape)}`,
      );
    }
    input.shape.forEach((d, i) => {
      if (d >= 0 && d !== value.shape[i]) {
        throw nativeError(
          "INPUT_MISMATCH",
          `${what} has shape ${shapeString(value.shape)} but the engine fixes it to ${shapeString(input.shape)}`,
        );
      }
    });
    const volume = value.shape.reduce((a, b) => a * b, 1);
    if (value.data.length !== volume) {
      throw nativeError(
        "INPUT_MISMATCH",
        `${what} has ${value.data.length} elements but shape ${shapeString(value.shape)} needs ${volume}`,
      );
    }
  }
  const known = new Set(declared.map((t) => t.name));
  for (const name of Object.keys(inputs)) {
    if (!known.has(name)) throw nativeError("INPUT_MISMATCH", `Engine.run: the engine has no input named ${name}`);
  }
}

function zeroOutputs(inputs: Record<string, HostTensor>, io: IoTensor[]): Record<string, HostTensor> {
  const firstInput = io.find((t) => t.mode === "input");
  const reference = firstInput === undefined ? [] : (inputs[firstInput.name]?.shape ?? []);
  const out: Record<string, HostTensor> = {};
  for (const tensor of io.filter((t) => t.mode === "output")) {
    const shape = tensor.shape.map((d, i) => (d >= 0 ? d : (reference[i] ?? 1)));
    const kind = TYPED_ARRAY[tensor.dtype] ?? TYPED_ARRAY.uint8!;
    out[tensor.name] = { data: new kind.ctor(shape.reduce((a, b) => a * b, 1)), shape };
  }
  return out;
}

export class FakeEngine implements NativeEngine {
  #disposed = false;

  constructor(
    private readonly payload: FakePlanPayload,
    readonly deviceId: number,
    private readonly runOutputs: FakeAddonOptions["run"],
  ) {}

  get disposed(): boolean {
    return this.#disposed;
  }

  #alive(method: string): void {
    if (this.#disposed) throw nativeError("ENGINE_DISPOSED", `Engine.${method}: the engine was disposed`);
  }

  ioTensors(): IoTensor[] {
    this.#alive("ioTensors");
    return structuredClone(this.payload.ioTensors);
  }

  run(inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    this.#alive("run");
    checkInputs(inputs, this.payload.ioTensors);
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(
            this.runOutputs
              ? this.runOutputs(inputs, structuredClone(this.payload.ioTensors))
              : zeroOutputs(inputs, this.payload.ioTensors),
          );
        } catch (err) {
          reject(
            err instanceof Error && "code" in err ? err : nativeError("TRT_RUN_FAILED", `enqueueV3 failed: ${(err as Error).message}`),
          );
        }
      });
    });
  }

  inspectorJson(): string {
    this.#alive("inspectorJson");
    return this.payload.inspectorJson;
  }

  dispose(): void {
    this.#disposed = true;
  }
}
