import { availableParallelism } from "node:os";
import { ForgeError } from "@trtforge/core";
// Types only: the module itself is imported when a model falls back to it, so a TensorRT host (or
// the GPU smoke run, which carries no onnxruntime-node) never loads ONNX Runtime's native library.
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { isTokenInput, tokenInput, type BackendRunner } from "./backend.js";
import type { OutputTensor, TensorDatatype, TensorSpec, TokenRows } from "./contract.js";

export interface OrtOptions {
  /** ONNX Runtime's intra-op threads; default by the host's cores (ortThreading). */
  intraOpNumThreads?: number;
  /** Cores the process may use; default os.availableParallelism(). */
  cores?: number;
  /** Run on ONNX Runtime's CUDA provider on this device (as the process sees it) instead of the CPU. */
  cudaDeviceId?: number;
}

const ORT_DATATYPES: Partial<Record<string, TensorDatatype>> = { float32: "FP32", int64: "INT64", int32: "INT64" };

function specOf(meta: InferenceSession.ValueMetadata): TensorSpec {
  const tensor = meta.isTensor ? meta : undefined;
  const datatype = (tensor && ORT_DATATYPES[tensor.type]) ?? "FP32";
  const shape = tensor ? tensor.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)) : [-1];
  return { name: meta.name, datatype, shape };
}

function toOutput(name: string, tensor: Tensor): OutputTensor {
  const shape = tensor.dims.map(Number);
  switch (tensor.type) {
    case "float32":
      return { name, datatype: "FP32", shape, data: tensor.data as Float32Array };
    case "int64":
      return { name, datatype: "INT64", shape, data: tensor.data as BigInt64Array };
    case "int32":
      return { name, datatype: "INT64", shape, data: BigInt64Array.from(tensor.data as Int32Array, (v) => BigInt(v)) };
    default:
      throw new ForgeError("INPUT_MISMATCH", `ONNX output ${name} has data type ${tensor.type}, which the runtime does not serve`, {
        input: name,
        fix: "serve a model whose outputs are float32 or integer tensors",
      });
  }
}

/**
 * Cores left to the HTTP front (the supervisor's one thread) and to the worker's main thread (the
 * tokenizer and the batcher) beside ONNX Runtime's intra-op threads.
 */
export const FRONT_CORES = 2;

/** From this many cores the worker takes every core but FRONT_CORES for intra-op threads, spinning. */
export const SPIN_MIN_CORES = 8;

export interface OrtThreading {
  /** Undefined: ONNX Runtime's own default (one per physical core). */
  intraOpNumThreads: number | undefined;
  allowSpinning: boolean;
}

/**
 * ONNX Runtime's intra-op threads and whether they spin between runs, by the host's cores. Spinning
 * keeps the pool awake, so a parallel op starts at once instead of waking sleeping threads: on 16
 * idle cores (MiniLM cpu.onnx, batch 1) a run took 2.4 ms spinning and 4.6 ms not. But a spinning
 * pool holds its cores: on 2 cores (cpu-int8) it took them from the front and the tokenizer, and
 * without spinning 32 clients went 194 → 255 articles/s and p99 at 8 clients 127 → 81 ms, for
 * 4.8 → 5.7 ms at one client (benchmarks/README.md). So the pool spins only where FRONT_CORES stay
 * free beside it: given threads, when cores − threads ≥ FRONT_CORES; by default, on hosts of at least
 * SPIN_MIN_CORES cores with cores − FRONT_CORES threads. Smaller hosts keep ONNX Runtime's default
 * threads without spinning (docs/serving.md).
 */
export function ortThreading(cores: number, intraOpNumThreads?: number): OrtThreading {
  if (intraOpNumThreads !== undefined) {
    return { intraOpNumThreads, allowSpinning: intraOpNumThreads > 1 && cores - intraOpNumThreads >= FRONT_CORES };
  }
  if (cores >= SPIN_MIN_CORES) return { intraOpNumThreads: cores - FRONT_CORES, allowSpinning: true };
  return { intraOpNumThreads: undefined, allowSpinning: false };
}

/** The ONNX Runtime backend (CPU, or CUDA with cudaDeviceId) over one ONNX file of the store version. */
export async function openOrtRunner(onnxPath: string, options: OrtOptions = {}): Promise<BackendRunner> {
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (err) {
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `the ONNX Runtime fallback cannot start: onnxruntime-node does not load (${(err as Error).message})`,
      {
        input: onnxPath,
        fix: "install the project's dependencies (pnpm install), or serve this version on TensorRT",
        cause: err,
      },
    );
  }
  const { InferenceSession, Tensor } = ort;
  const threading = ortThreading(options.cores ?? availableParallelism(), options.intraOpNumThreads);
  const spinning = threading.allowSpinning ? "1" : "0";
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(onnxPath, {
      executionProviders: options.cudaDeviceId === undefined ? ["cpu"] : [{ name: "cuda", deviceId: options.cudaDeviceId }],
      graphOptimizationLevel: "all",
      extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
      ...(threading.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: threading.intraOpNumThreads }),
    });
  } catch (err) {
    const where = options.cudaDeviceId === undefined ? "" : ` on CUDA device ${options.cudaDeviceId}`;
    throw new ForgeError("MODEL_UNSERVABLE", `ONNX Runtime cannot load ${onnxPath}${where}: ${(err as Error).message}`, {
      input: onnxPath,
      fix: "republish the version from build-engine's output, or choose another onnxVariant",
      cause: err,
    });
  }
  const inputNames = [...session.inputNames];
  const unknown = inputNames.filter((n) => !isTokenInput(n));
  if (unknown.length > 0) {
    await session.release();
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `${onnxPath} takes inputs ${unknown.join(", ")}, which are not token inputs the runtime can feed`,
      {
        input: onnxPath,
        fix: "serve a text model exported by build-engine (inputs input_ids, attention_mask, token_type_ids)",
      },
    );
  }
  const int32Inputs = new Set(session.inputMetadata.filter((m) => m.isTensor && m.type === "int32").map((m) => m.name));
  return {
    inputNames,
    outputs: session.outputMetadata.map(specOf),
    async run(tokens: TokenRows): Promise<OutputTensor[]> {
      const feeds: Record<string, Tensor> = {};
      const dims = [tokens.rows, tokens.seqLen];
      for (const name of inputNames) {
        const data = tokenInput(tokens, name)!;
        feeds[name] = int32Inputs.has(name) ? new Tensor("int32", Int32Array.from(data, Number), dims) : new Tensor("int64", data, dims);
      }
      const results = await session.run(feeds);
      return session.outputNames.map((name) => toOutput(name, results[name]!));
    },
    release: () => session.release(),
  };
}
