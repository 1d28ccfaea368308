import { join } from "node:path";
import { ForgeError, silentLogger, type Logger, type Profile } from "@trtforge/core";
import { profileOfMetadata, readSidecar, type EngineMetadata } from "@trtforge/engine-format";
import type { AddonBinding } from "@trtforge/native";
import { loadTokenizer, type ModelTokenizer } from "@trtforge/tokenizer";
import type { BackendRunner } from "./backend.js";
import { applyHead, readClassifierHead, type ClassifierHead } from "./classifier-head.js";
import type { FallbackReason, ModelEvidence, ModelKind, OutputTensor, ServedModel, TensorSpec, TokenRows } from "./contract.js";
import { decideEngine, tensorrtRequired } from "./engine-gate.js";
import { measureExecutionCost, type ExecutionCost } from "./execution-cost.js";
import type { OnnxVariant } from "./onnx-choice.js";
import { openOnnxFallback } from "./onnx-fallback.js";
import { openVerifiedVersion, type ModelSource, type VerifiedVersion } from "./store-version.js";
import { boundTextBytes, maxTextBytes } from "./text-bytes.js";
import { padRows, runRowsAlone } from "./token-rows.js";
import { tensorrtRunner } from "./trt-backend.js";
import { fileSha256, findEngine, modelConfigPath, tokenizerDir } from "./version-files.js";
import { readVocabSizes } from "./vocab-sizes.js";

export interface OpenModelOptions {
  logger?: Logger;
  /** The TensorRT addon; default loadAddon(). Tests inject the fake (@trtforge/native/fake). */
  addon?: AddonBinding;
  /** CUDA device to load the engine on, as the process sees it (after CUDA_VISIBLE_DEVICES). Default 0. */
  deviceId?: number;
  /** Refuse (TENSORRT_REQUIRED) instead of falling back to ONNX Runtime. */
  requireTensorRT?: boolean;
  /** Serve on ONNX Runtime even where the engine could load (reason FORCED_ONNXRUNTIME). */
  forceOnnxRuntime?: boolean;
  /** Which ONNX of the version the fallback runs; default "auto" (see chooseOnnx). */
  onnxVariant?: OnnxVariant;
  /** ONNX Runtime intra-op threads. */
  intraOpNumThreads?: number;
  /** Try ONNX Runtime's CUDA provider on deviceId before the CPU (a GPU worker). Default false. */
  onnxCuda?: boolean;
  /** Refuse (GPU_REQUIRED) to serve on the CPU. */
  requireGpu?: boolean;
  /** The GPU's UUID (GPU-…), for the evidence of a model on ONNX Runtime's CUDA provider. */
  gpuUuid?: string;
  /** Where onnxruntime-node's binding and provider libraries live; default the installed one (tests). */
  ortBindingDir?: string;
}

/** A served model, with the fallback's full explanation beside the contract's stable reason. */
export interface OpenedModel extends ServedModel {
  /** Why the engine was not used, in words (verify-engine's problems, the addon's message). */
  readonly fallbackDetail: string | undefined;
}

async function readEngineMetadata(version: VerifiedVersion, sidecar: string): Promise<EngineMetadata> {
  const path = join(version.path, sidecar);
  const reading = await readSidecar(path).catch((err: unknown) => {
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `cannot read the engine metadata of version "${version.version}" of agent "${version.agent}": ${(err as Error).message}`,
      {
        input: path,
        fix: "serve a version published by build-engine (v1 metadata beside the engine)",
        cause: err,
      },
    );
  });
  if (reading.schema !== "v1") {
    throw new ForgeError(
      "MODEL_UNSERVABLE",
      `${path} is JustNewsAgent's legacy engine metadata, which does not record the profile or the model's identity the runtime needs`,
      {
        input: path,
        fix: "rebuild and publish the model with build-engine",
      },
    );
  }
  return reading.metadata;
}

function tokenizeWith(tokenizer: ModelTokenizer, profile: Profile, texts: readonly string[], truncate: boolean): TokenRows {
  if (texts.length === 0) {
    throw new ForgeError("INPUT_MISMATCH", "no texts to tokenize: a batch needs at least one row", {
      input: "text",
      fix: "send at least one text",
    });
  }
  // Bytes first: a text far over the profile is refused or cut before the tokenizer walks all of it.
  const bounded = boundTextBytes(texts, maxTextBytes(profile), truncate);
  const { min: minSeq, max: maxSeq } = profile.sequence;
  const encoded = tokenizer.encodeBatch(bounded, { maxLength: maxSeq, padding: "longest", truncation: truncate });
  if (!truncate && encoded.seqLen > maxSeq) {
    const lengths = texts.map((_, r) =>
      encoded.attentionMask.subarray(r * encoded.seqLen, (r + 1) * encoded.seqLen).reduce((a, b) => a + b, 0n),
    );
    const row = lengths.findIndex((n) => n > BigInt(maxSeq));
    throw new ForgeError(
      "TEXT_TOO_LONG",
      `text ${row} has ${lengths[row]} tokens, more than the model's maximum sequence length ${maxSeq}`,
      {
        input: `text[${row}]`,
        fix: `shorten the text, or ask for truncation (the first ${maxSeq} tokens are then used)`,
        details: { row, tokens: Number(lengths[row]), maxSeq: maxSeq },
      },
    );
  }
  const tokens: TokenRows = {
    rows: encoded.batchSize,
    seqLen: encoded.seqLen,
    inputIds: encoded.inputIds,
    attentionMask: encoded.attentionMask,
    ...(encoded.tokenTypeIds === undefined ? {} : { tokenTypeIds: encoded.tokenTypeIds }),
  };
  return tokens.seqLen < minSeq ? padRows(tokens, minSeq, BigInt(tokenizer.padTokenId ?? 0)) : tokens;
}

function classifierOutputs(head: ClassifierHead): TensorSpec[] {
  return [
    { name: "label", datatype: "BYTES", shape: [-1] },
    { name: "probabilities", datatype: "FP32", shape: [-1, head.labels.length] },
  ];
}

/**
 * Opens a published store version for serving: verifies the manifest checksum (a damaged version is
 * refused), reads the engine metadata, loads the engine on TensorRT only after verify-engine's
 * checks pass against the running TensorRT and this GPU, and otherwise falls back to ONNX Runtime
 * on the ONNX of the same version with a stable reason (logged once) — or refuses, when
 * requireTensorRT is set.
 */
export async function openServedModel(source: ModelSource, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const log = options.logger ?? silentLogger();
  const version = await openVerifiedVersion(source, log);
  const { engine, sidecar } = findEngine(version);
  const metadata = await readEngineMetadata(version, sidecar);
  const profile = profileOfMetadata(metadata);
  const tokenizer = await loadTokenizer(tokenizerDir(version));
  const configPath = modelConfigPath(version);
  const head = configPath === undefined ? undefined : await readClassifierHead(configPath);
  const vocab = await readVocabSizes(configPath);

  const decision = await decideEngine({
    enginePath: join(version.path, engine),
    metadata,
    ...(options.addon === undefined ? {} : { addon: options.addon }),
    deviceId: options.deviceId ?? 0,
    forceOnnxRuntime: options.forceOnnxRuntime ?? false,
    logger: log,
  });

  let runner: BackendRunner;
  let evidence: ModelEvidence;
  let rowsIndependent = true;
  let fallbackDetail: string | undefined;
  const identity = { model_id: metadata.model_id, hf_revision: metadata.hf_revision, agent: version.agent, version: version.version };
  if (decision.backend === "tensorrt") {
    runner = tensorrtRunner(decision.engine, join(version.path, engine));
    evidence = {
      ...identity,
      backend: "tensorrt",
      precision: metadata.precision,
      checksum: metadata.checksum,
      artifact: engine,
      gpu_uuid: decision.device.uuid,
      compute_capability: decision.device.computeCapability,
    };
  } else {
    const reason: FallbackReason = decision.reason;
    if (options.requireTensorRT) throw tensorrtRequired(version.agent, version.version, reason, decision.detail);
    const fallback = await openOnnxFallback(version, {
      variant: options.onnxVariant ?? "auto",
      cuda: options.onnxCuda ?? false,
      deviceId: options.deviceId ?? 0,
      requireGpu: options.requireGpu ?? false,
      intraOpNumThreads: options.intraOpNumThreads,
      logger: log,
      bindingDir: options.ortBindingDir,
    });
    const onnx = fallback.onnx;
    rowsIndependent = onnx.rowsIndependent;
    runner = fallback.runner;
    evidence = {
      ...identity,
      backend: "onnxruntime",
      precision: onnx.precision,
      checksum: await fileSha256(version, onnx.file),
      artifact: onnx.file,
      fallback_reason: reason,
      execution_provider: fallback.provider,
      ...(fallback.cudaReason === undefined ? {} : { cuda_fallback_reason: fallback.cudaReason }),
      ...(fallback.provider === "cuda" && options.gpuUuid !== undefined ? { gpu_uuid: options.gpuUuid } : {}),
    };
    fallbackDetail = fallback.cudaDetail === undefined ? decision.detail : `${decision.detail}; CUDA: ${fallback.cudaDetail}`;
    log.warn(
      {
        agent: version.agent,
        version: version.version,
        fallback_reason: reason,
        detail: decision.detail,
        artifact: onnx.file,
        execution_provider: fallback.provider,
      },
      "serving on the ONNX Runtime fallback",
    );
  }

  const executionCost = await measureFallbackCost(runner, evidence, rowsIndependent, profile, log);
  const hasLogits = runner.outputs.some((o) => o.name === "logits");
  const classifier = head !== undefined && hasLogits ? head : undefined;
  const kind: ModelKind = classifier === undefined ? "embedding" : "classification";
  const outputs: TensorSpec[] = [...runner.outputs, ...(classifier === undefined ? [] : classifierOutputs(classifier))];
  const inputs: TensorSpec[] = runner.inputNames.map((name) => ({ name, datatype: "INT64", shape: [-1, -1] }));
  const inFlight = new Set<Promise<unknown>>();
  let disposing: Promise<void> | undefined;

  log.info(
    {
      agent: version.agent,
      version: version.version,
      backend: evidence.backend,
      precision: evidence.precision,
      artifact: evidence.artifact,
      profile,
    },
    "model opened",
  );

  const model: OpenedModel = {
    agent: version.agent,
    version: version.version,
    kind,
    evidence,
    profile,
    inputs,
    outputs,
    labels: classifier?.labels,
    ...(vocab.vocabSize === undefined ? {} : { vocabSize: vocab.vocabSize }),
    ...(vocab.typeVocabSize === undefined ? {} : { typeVocabSize: vocab.typeVocabSize }),
    rowsIndependent,
    ...(executionCost === undefined ? {} : { executionCost }),
    fallbackDetail,
    tokenize: (texts, { truncate }) => tokenizeWith(tokenizer, profile, texts, truncate),
    run(batch: TokenRows): Promise<OutputTensor[]> {
      if (disposing !== undefined) {
        return Promise.reject(
          new ForgeError("ENGINE_DISPOSED", `${version.agent}@${version.version} was disposed`, {
            fix: "run on the version that replaced it",
          }),
        );
      }
      const raw = rowsIndependent ? runner.run(batch) : runRowsAlone(batch, (row) => runner.run(row));
      const running = raw.then((raw) => {
        if (classifier === undefined) return raw;
        const logits = raw.find((o) => o.name === "logits")!;
        return [...raw, ...applyHead(classifier, logits)];
      });
      inFlight.add(running);
      const forget = () => inFlight.delete(running);
      running.then(forget, forget);
      return running;
    },
    dispose(): Promise<void> {
      disposing ??= (async () => {
        await Promise.allSettled([...inFlight]);
        await runner.release();
        log.info({ agent: version.agent, version: version.version }, "model disposed");
      })();
      return disposing;
    },
  };
  return model;
}

/** Real news-like sentences for warm-up: one batch through tokenizer and backend before serving. */
export const WARMUP_TEXTS = [
  "Stocks rallied on Friday after the central bank held interest rates steady.",
  "The home team won the championship final in extra time.",
];

/**
 * The execution cost of an ONNX Runtime session on this host (measureExecutionCost at the profile's
 * optimal length), for the batcher's length groups: how much merging rows of different lengths pays
 * depends on the cores and threads, so it is measured, not assumed. TensorRT keeps its default
 * (merge whole batches); a model whose rows run alone, or that takes one row, has nothing to merge.
 * A failing run leaves the default: warmUp reports the failure.
 */
async function measureFallbackCost(
  runner: BackendRunner,
  evidence: ModelEvidence,
  rowsIndependent: boolean,
  profile: Profile,
  log: Logger,
): Promise<ExecutionCost | undefined> {
  if (evidence.backend !== "onnxruntime" || !rowsIndependent || profile.batch.max < 2) return undefined;
  try {
    const cost = await measureExecutionCost((tokens) => runner.run(tokens), {
      batch: Math.min(COST_BATCH, profile.batch.max),
      seqLen: profile.sequence.opt,
      // Few runs: this is load time (a BERT-base batch of 8 at 512 tokens takes about a second on 2 cores).
      repeats: 3,
    });
    log.info({ agent: evidence.agent, version: evidence.version, execution_cost: cost }, "execution cost measured");
    return cost;
  } catch (err) {
    log.warn({ agent: evidence.agent, version: evidence.version, err }, "execution cost not measured: the backend default applies");
    return undefined;
  }
}

/** The batch the execution cost is measured at besides 1: the size the batcher merges to under load. */
const COST_BATCH = 8;

/**
 * Runs one real batch (tokenizer and backend) and checks the outputs are finite: a version is
 * ready only after this passes (WARMUP_FAILED otherwise).
 */
export async function warmUp(model: ServedModel): Promise<void> {
  try {
    const rows = Math.min(WARMUP_TEXTS.length, model.profile.batch.max);
    const outputs = await model.run(model.tokenize(WARMUP_TEXTS.slice(0, rows), { truncate: true }));
    for (const out of outputs) {
      if (out.datatype === "FP32" && out.data.some((x) => !Number.isFinite(x))) {
        throw new Error(`output ${out.name} holds non-finite values`);
      }
    }
  } catch (err) {
    throw new ForgeError("WARMUP_FAILED", `the warm-up batch of ${model.agent}@${model.version} failed: ${(err as Error).message}`, {
      input: `${model.agent}@${model.version}`,
      fix: "check the version with model-store verify and verify-engine; the previous version keeps serving",
      cause: err,
    });
  }
}
