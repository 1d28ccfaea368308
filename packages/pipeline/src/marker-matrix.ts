import { resolve } from "node:path";
import { ForgeError, publishFiles, type Logger } from "@trtforge/core";
import { parsePrecision, type Precision } from "@trtforge/engine-format";
import { loadModelsConfig, type ModelSpec } from "@trtforge/config";
import { buildMarker, builderInfo, engineAgentName, type BuiltArtifact, type EngineTarget } from "@trtforge/builder";
import { publish, type PublishResult } from "@trtforge/model-store";
import { assertTrtVersionOption, normalizeProfile, type BuildRequestInput } from "./build-request.js";
import { BUILD_DEFAULTS } from "./option-table.js";

/** Overrides of the matrix, as a caller or the command line gives them. */
export type MarkerOverrides = Pick<BuildRequestInput, "precision" | "maxBatch" | "sequenceLength" | "trtVersion"> & {
  /** Tasks of the matrix to build (default: all). */
  only?: readonly string[] | undefined;
};

export interface BuildMarkersOptions extends MarkerOverrides {
  config: string;
  /** Exactly one of `out` (a folder) and `store` (a ModelStore root) receives the markers. */
  out?: string | undefined;
  store?: { root: string | undefined } | undefined;
  /** Replace existing files in `out`. */
  force?: boolean | undefined;
  logger: Logger;
}

export interface BuildMarkersResult {
  out?: string;
  published?: PublishResult[];
  artifacts: BuiltArtifact[];
}

/**
 * Expands the matrix into one target per model and precision, with the overrides applied through
 * the same profile normalization as a pipeline build: an optimum outside [min, max] is refused.
 */
export function markerTargets(models: readonly ModelSpec[], o: MarkerOverrides, configPath: string): EngineTarget[] {
  const precision: Precision | undefined = o.precision === undefined ? undefined : parsePrecision(o.precision);
  if (o.trtVersion !== undefined) assertTrtVersionOption(o.trtVersion);
  const only = o.only === undefined ? undefined : new Set(o.only);
  if (only) {
    const known = new Set(models.map((m) => m.taskName));
    const unknown = [...only].filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new ForgeError("INVALID_OPTION", `--only names task(s) not in ${configPath}: ${unknown.join(", ")}`, {
        input: "--only",
        fix: `use tasks from the build matrix: ${[...known].join(", ")}`,
      });
    }
  }
  return models
    .filter((m) => !only || only.has(m.taskName))
    .flatMap((m) => {
      const { profile } = normalizeProfile({ maxBatch: o.maxBatch, sequenceLength: o.sequenceLength }, m);
      return (precision ? [precision] : m.precisions).map((p) => ({
        profile,
        // The matrix's markers are built as a pipeline build with no --typing would be.
        typing: BUILD_DEFAULTS.typing,
        taskName: m.taskName,
        modelId: m.modelId,
        revision: m.revision,
        precision: p,
        trtVersion: o.trtVersion ?? m.trtVersion,
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
export async function buildMarkers(opts: BuildMarkersOptions): Promise<BuildMarkersResult> {
  const config = await loadModelsConfig(opts.config);
  const targets = markerTargets(config.models, opts, opts.config);
  const builder = await builderInfo();
  const createdAt = new Date();
  const artifacts = targets.map((t) => buildMarker(t, builder, createdAt));
  if (opts.store) return { artifacts, published: await publishMarkersToStore(artifacts, opts.store.root, opts.logger) };
  const out = resolve(opts.out ?? ".");
  await publishFiles(
    out,
    artifacts.flatMap((a) => [
      { name: a.engineName, data: a.engineBytes },
      { name: a.sidecarName, data: a.sidecarText },
    ]),
    { overwrite: opts.force ?? false },
  );
  for (const a of artifacts) opts.logger.info({ engine: a.engineName, kind: "marker" }, "wrote marker engine and metadata");
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
