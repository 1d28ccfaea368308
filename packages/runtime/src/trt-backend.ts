import { float16BitsToFloat32, ForgeError } from "@trtforge/core";
import type { HostTensor, IoTensor, NativeEngine, TrtDataType } from "@trtforge/native";
import { isTokenInput, tokenInput, type BackendRunner } from "./backend.js";
import type { OutputTensor, TensorDatatype, TensorSpec, TokenRows } from "./contract.js";

const SERVED_OUTPUT_TYPES: Partial<Record<TrtDataType, TensorDatatype>> = {
  fp32: "FP32",
  fp16: "FP32",
  bf16: "FP32",
  int32: "INT64",
  int64: "INT64",
};

function toOutput(tensor: IoTensor, host: HostTensor): OutputTensor {
  const shape = [...host.shape];
  const { name } = tensor;
  switch (tensor.dtype) {
    case "fp32":
      return { name, datatype: "FP32", shape, data: host.data as Float32Array };
    case "fp16":
      return { name, datatype: "FP32", shape, data: Float32Array.from(host.data as Uint16Array, float16BitsToFloat32) };
    case "bf16": {
      const words = new Uint32Array((host.data as Uint16Array).length);
      (host.data as Uint16Array).forEach((b, i) => (words[i] = b << 16));
      return { name, datatype: "FP32", shape, data: new Float32Array(words.buffer) };
    }
    case "int64":
      return { name, datatype: "INT64", shape, data: host.data as BigInt64Array };
    case "int32":
      return { name, datatype: "INT64", shape, data: BigInt64Array.from(host.data as Int32Array, (v) => BigInt(v)) };
    default:
      throw new ForgeError("TRT_RUN_FAILED", `engine output ${name} has data type ${tensor.dtype}, which the runtime does not serve`, {
        input: name,
      });
  }
}

/**
 * The TensorRT backend over a deserialized engine: token rows go in as int64 or int32, as each
 * engine input declares, and outputs come back as FP32 (fp16/bf16 widened) or INT64 tensors.
 */
export function tensorrtRunner(engine: NativeEngine, enginePath: string): BackendRunner {
  const io = engine.ioTensors();
  const inputs = io.filter((t) => t.mode === "input");
  const outputs = io.filter((t) => t.mode === "output");
  const bad = inputs.filter((t) => !isTokenInput(t.name) || (t.dtype !== "int64" && t.dtype !== "int32"));
  const badOutputs = outputs.filter((t) => SERVED_OUTPUT_TYPES[t.dtype] === undefined);
  if (bad.length > 0 || badOutputs.length > 0) {
    engine.dispose();
    const what = [...bad.map((t) => `input ${t.name} (${t.dtype})`), ...badOutputs.map((t) => `output ${t.name} (${t.dtype})`)].join(", ");
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `${enginePath} has ${what}, which the runtime cannot feed or serve (token inputs must be int64 or int32)`,
      {
        input: enginePath,
        fix: "serve an engine built by build-engine from a text model's ONNX",
      },
    );
  }
  return {
    inputNames: inputs.map((t) => t.name),
    outputs: outputs.map((t) => ({
      name: t.name,
      datatype: SERVED_OUTPUT_TYPES[t.dtype]!,
      shape: t.shape.map((d) => (d >= 0 ? d : -1)),
    })) satisfies TensorSpec[],
    async run(tokens: TokenRows): Promise<OutputTensor[]> {
      const feeds: Record<string, HostTensor> = {};
      const shape = [tokens.rows, tokens.seqLen];
      for (const input of inputs) {
        const data = tokenInput(tokens, input.name)!;
        feeds[input.name] = { data: input.dtype === "int32" ? Int32Array.from(data, Number) : data, shape };
      }
      const results = await engine.run(feeds);
      return outputs.map((t) => {
        const host = results[t.name];
        if (host === undefined) throw new ForgeError("TRT_RUN_FAILED", `the engine returned no output ${t.name}`, { input: enginePath });
        return toOutput(t, host);
      });
    },
    async release() {
      engine.dispose();
    },
  };
}
