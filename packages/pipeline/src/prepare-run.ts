import { ForgeError, projectRoot, type Logger, type OnProgress } from "@trtforge/core";
import { readEvidenceReport, type EvidenceChoice } from "@trtforge/model-store";
import { builderInfo, engineAgentName, type BuilderInfo } from "@trtforge/builder";
import { defaultModelsConfigPath, loadModelsConfig } from "@trtforge/config";
import { loadAddon, type AddonStatus } from "@trtforge/native";
import { join } from "node:path";
import { normalizeBuildRequest, type BuildRequest, type BuildRequestInput } from "./build-request.js";
import { readCheckedArticles, type ArticlesRecord } from "./check-articles.js";
import { checkStoreWritable } from "./check-store.js";
import { resolveModelSource, type ModelSource } from "./model-source.js";
import type { CpuServingChoice } from "./cpu-serving-stage.js";
import type { GpuServingChoice } from "./gpu-serving-stage.js";
import { checkProfileLengths } from "./profile-shapes.js";
import { checkWeightFiles } from "./check-weights.js";
import { checkBuildNames } from "./model-identity.js";
import { settleHost, type SettledHost } from "./settle-host.js";
import type { ArticleSet } from "@trtforge/articles";

/** A build as a library caller or the CLI asks for it: the request plus where to read and write. */
export interface PipelineInput extends BuildRequestInput {
  /** A Hugging Face folder, or store:<agent>[@<version>]. */
  model: string;
  /** The Hugging Face revision to record (default: the ModelStore's record). */
  revision?: string | undefined;
  /** Write a marker where TensorRT is absent instead of stopping at the build stage. */
  marker?: boolean | undefined;
  /** The CPU-serving ONNX published beside the engine (model.cpu.onnx): int8 (default), fp32 fused, or off. */
  cpuServing?: CpuServingChoice | undefined;
  /** Publish even when a precision form is below its accuracy gate; recorded in provenance and the version's metadata. */
  acceptAccuracy?: boolean | undefined;
  /** The GPU-serving ONNX published beside the engine (model.gpu.onnx, for ONNX Runtime's CUDA provider): fp16, or off (default). */
  gpuServing?: GpuServingChoice | undefined;
  /** Move `<agent>/current` to this build (fresh or reused); without it current moves only when the agent has none. */
  promote?: boolean | undefined;
  /**
   * With promote, what justifies moving current over an existing version: a compare-engines report of
   * this build against it, or withoutEvidence. Without either, promote over an existing current is
   * refused (PROMOTION_EVIDENCE_REQUIRED) as soon as the agent is known, before calibration and build.
   */
  promoteEvidence?: EvidenceChoice | undefined;
  /** Where stage results are kept for reuse. */
  workRoot: string;
  /** ModelStore root; default $MODEL_STORE_ROOT. */
  storeRoot?: string | undefined;
  /** The build matrix whose matching entry gives the defaults (default conf/models.yaml); false: none. */
  modelsConfig?: string | false | undefined;
  /** The TensorRT addon; default loadAddon(). Tests pass the fake addon. */
  addon?: AddonStatus | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
}

/** Everything a run settles before its first stage. */
export interface PreparedRun {
  request: BuildRequest;
  model: ModelSource;
  host: SettledHost;
  storeRoot: string;
  articles: ArticleSet;
  articlesRecord: ArticlesRecord;
  builder: BuilderInfo;
}

/** The articles a build uses when none are named: the real news sample shipped in conf/samples. */
export function defaultSamplesPath(): string {
  return join(projectRoot(), "conf/samples/ag_news_1000.jsonl");
}

/**
 * Settles a run before any expensive work, cheapest check first: the store can take the result,
 * the model (a ModelStore version is verified against its manifest), every option with its source,
 * the host (addon, TensorRT version, device, typing), then the articles.
 */
export async function prepareRun(input: PipelineInput): Promise<PreparedRun> {
  const log = input.logger;
  await checkPromoteEvidence(input);
  let storeRoot = await checkStoreWritable(input.storeRoot, undefined);
  const source = await resolveModelSource(input.model, storeRoot);
  // Names first (they become folder names), then the weights (headers only): all before any stage.
  const modelId = checkBuildNames({
    folder: source.folder,
    modelId: input.modelId ?? source.modelId,
    storeRef: source.storeRef,
    taskName: input.taskName,
  });
  // A store version was verified against its manifest; a plain folder has only its headers to go by.
  if (source.storeRef === undefined) await checkWeightFiles(source.folder);
  const model = { ...source, modelId, revision: input.revision ?? source.revision };
  const matrix =
    input.modelsConfig === false ? undefined : (await loadModelsConfig(input.modelsConfig ?? defaultModelsConfigPath())).models;
  const request = normalizeBuildRequest({ ...input, modelId: model.modelId }, { matrix, defaultArticles: defaultSamplesPath() });
  if (request.matrixEntry) log.info({ entry: request.matrixEntry }, `defaults from the build matrix entry "${request.matrixEntry}"`);
  // The model's usable maximum sequence length (position table, tokenizer), before any work.
  await checkProfileLengths(model.folder, request.build);
  const host = settleHost(request, input.addon ?? loadAddon(), { marker: input.marker ?? false, deviceId: request.deviceId, logger: log });
  if (request.taskName !== undefined) storeRoot = await checkStoreWritable(storeRoot, engineAgentName(request.taskName));
  const articles = await readCheckedArticles(request, log);
  return { request, model, host, storeRoot, articles: articles.set, articlesRecord: articles.record, builder: await builderInfo() };
}

/** Evidence without promote means nothing; a report that is not one is refused before any work. */
async function checkPromoteEvidence(input: PipelineInput): Promise<void> {
  const evidence = input.promoteEvidence;
  if (evidence === undefined) return;
  if (input.promote !== true) {
    throw new ForgeError("INVALID_OPTION", "promotion evidence was given without promote", {
      input: "promote",
      fix: "add --promote, or drop --evidence / --without-evidence",
    });
  }
  if ("report" in evidence) await readEvidenceReport(evidence.report);
}
