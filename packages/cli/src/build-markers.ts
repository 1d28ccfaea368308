import { resolve } from "node:path";
import { ForgeError, publishFiles, type Logger } from "@trtforge/core";
import { parsePrecision, type Precision } from "@trtforge/engine-format";
import { loadModelsConfig, type ModelSpec } from "@trtforge/config";
import { buildMarker, builderInfo, checkBatchSize, checkSequenceLength, engineAgentName, type BuiltArtifact, type EngineTarget } from "@trtforge/builder";
import { publish, type PublishResult } from "@trtforge/model-store";
import { parseInteger } from "./parse-options.js";

export interface BuildMarkersOptions {
  config: string;
  /** Exactly one of `out` (a folder) and `store` (a ModelStore root) receives the markers. */
  out?: string;
  store?: { root: string | undefined };
  precision?: string;
  maxBatch?: string;
  sequenceLength?: string;
  trtVersion?: string;
  only?: string;
  force?: boolean;
}

export interface BuildMarkersResult {
  out?: string;
  published?: PublishResult[];
  artifacts: BuiltArtifact[];
}

interface Overrides {
  precision: Precision | undefined;
  maxBatch: number | undefined;
  seqLen: number | undefined;
  trtVersion: string | undefined;
  only: Set<string> | undefined;
}

function parseOverrides(opts: BuildMarkersOptions): Overrides {
  return {
    precision: opts.precision === undefined ? undefined : parsePrecision(opts.precision),
    maxBatch: opts.maxBatch === undefined ? undefined : checkBatchSize(parseInteger(opts.maxBatch, "--max-batch"), "--max-batch"),
    seqLen: opts.sequenceLength === undefined ? undefined : checkSequenceLength(parseInteger(opts.sequenceLength, "--sequence-length"), "--sequence-length"),
    trtVersion: opts.trtVersion,
    only: opts.only === undefined ? undefined : new Set(opts.only.split(",").map((t) => t.trim()).filter(Boolean)),
  };
}

/** Expands the matrix into one target per model and precision, with command-line overrides applied. */
export function markerTargets(models: readonly ModelSpec[], o: Overrides, configPath: string): EngineTarget[] {
  if (o.only) {
    const known = new Set(models.map((m) => m.taskName));
    const unknown = [...o.only].filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new ForgeError("USAGE", `--only names task(s) not in ${configPath}: ${unknown.join(", ")}`, {
        input: "--only",
        fix: `use tasks from the build matrix: ${[...known].join(", ")}`,
      });
    }
  }
  return models
    .filter((m) => !o.only || o.only.has(m.taskName))
    .flatMap((m) => {
      const maxBatchSize = o.maxBatch ?? m.maxBatchSize;
      const seqLen = o.seqLen ?? m.seqLen;
      const precisions = o.precision ? [o.precision] : m.precisions;
      return precisions.map((precision) => ({
        taskName: m.taskName,
        modelId: m.modelId,
        revision: m.revision,
        precision,
        trtVersion: o.trtVersion ?? m.trtVersion,
        maxBatchSize,
        optBatchSize: Math.min(m.optBatchSize, maxBatchSize),
        minSeqLen: Math.min(m.minSeqLen, seqLen),
        optSeqLen: Math.min(m.optSeqLen, seqLen),
        seqLen,
        inputs: m.inputs,
        outputs: m.outputs,
      }));
    });
}

/**
 * Writes a marker engine and its v1 metadata for every model and precision of the build matrix.
 * Everything is validated and built in memory first, then published as one group: a failure
 * leaves no file behind.
 */
export async function buildMarkers(opts: BuildMarkersOptions, log: Logger): Promise<BuildMarkersResult> {
  const overrides = parseOverrides(opts);
  const config = await loadModelsConfig(opts.config);
  const targets = markerTargets(config.models, overrides, opts.config);
  const builder = await builderInfo();
  const createdAt = new Date();
  const artifacts = targets.map((t) => buildMarker(t, builder, createdAt));
  if (opts.store) return { artifacts, published: await publishMarkersToStore(artifacts, opts.store.root, log) };
  const out = resolve(opts.out ?? ".");
  await publishFiles(
    out,
    artifacts.flatMap((a) => [
      { name: a.engineName, data: a.engineBytes },
      { name: a.sidecarName, data: a.sidecarText },
    ]),
    { overwrite: opts.force ?? false },
  );
  for (const a of artifacts) log.info({ engine: a.engineName, kind: "marker" }, "wrote marker engine and metadata");
  return { out, artifacts };
}

/** One ModelStore version per task, under the task's engine agent, each finalized atomically. */
async function publishMarkersToStore(artifacts: readonly BuiltArtifact[], root: string | undefined, log: Logger): Promise<PublishResult[]> {
  const byTask = new Map<string, BuiltArtifact[]>();
  for (const a of artifacts) byTask.set(a.metadata.task, [...(byTask.get(a.metadata.task) ?? []), a]);
  const results: PublishResult[] = [];
  for (const [task, group] of byTask) {
    const first = group[0]!.metadata;
    const result = await publish({
      ...(root === undefined ? {} : { root }),
      agent: engineAgentName(task),
      files: group.flatMap((a) => [
        { path: a.engineName, data: a.engineBytes },
        { path: a.sidecarName, data: a.sidecarText },
      ]),
      metadata: { kind: "marker", task, model_id: first.model_id, hf_revision: first.hf_revision, engines: group.map((a) => a.engineName) },
      logger: log,
    });
    log.info({ agent: result.agent, version: result.version, engines: group.length }, "published markers to the model store");
    results.push(result);
  }
  return results;
}
