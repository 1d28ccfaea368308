import { join } from "node:path";
import type { Logger, OnProgress } from "@trtforge/core";
import { exportModel, type ExportReport, type ShapeCase, type ValidationResult } from "@trtforge/export";
import { computeChecksum } from "@trtforge/model-store";
import { contentKey } from "./content-key.js";
import { runStage } from "./stage-dir.js";
import type { HfTaskChoice } from "@trtforge/engine-format";

export interface ExportStageOptions {
  workRoot: string;
  modelDir: string;
  /** computeChecksum(modelDir) where the caller already has it (a verified store version). */
  modelChecksum?: string | undefined;
  modelId: string | undefined;
  revision: string | undefined;
  task: HfTaskChoice;
  opset: number;
  samples: string;
  samplesSha256: string;
  seqLen: number;
  /** The build profile's shapes: the ONNX is validated against PyTorch at each of them. */
  shapes: readonly ShapeCase[];
  toolVersion: string;
  logger: Logger;
  signal?: AbortSignal;
  onProgress?: OnProgress | undefined;
}

export interface ExportStageSummary {
  onnx_path: string;
  model_checksum: string;
  report: ExportReport;
  validation: ValidationResult;
}

/** HF folder → validated fp32 ONNX, keyed by the folder's content and every export option. */
export type ExportStageResult = ExportStageSummary & { reused: boolean; dir: string };

export async function exportStage(o: ExportStageOptions): Promise<ExportStageResult> {
  const modelChecksum = o.modelChecksum ?? (await computeChecksum(o.modelDir));
  const key = contentKey({
    stage: "export",
    modelChecksum,
    modelId: o.modelId,
    revision: o.revision,
    task: o.task,
    opset: o.opset,
    samples: o.samplesSha256,
    seqLen: o.seqLen,
    shapes: o.shapes,
    tool: o.toolVersion,
  });
  const result = await runStage<ExportStageSummary>(o.workRoot, "export", key, async (temp) => {
    const exported = await exportModel({
      modelDir: o.modelDir,
      out: join(temp, "onnx"),
      task: o.task,
      opset: o.opset,
      samples: o.samples,
      seqLen: o.seqLen,
      shapes: o.shapes,
      ...(o.modelId ? { modelId: o.modelId } : {}),
      ...(o.revision ? { revision: o.revision } : {}),
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: o.onProgress,
    });
    return { onnx_path: "onnx/model.onnx", model_checksum: modelChecksum, report: exported.report, validation: exported.validation };
  });
  if (result.reused) o.logger.info({ dir: result.dir }, "export: reusing an identical earlier export");
  return { ...result.summary, onnx_path: join(result.dir, result.summary.onnx_path), reused: result.reused, dir: result.dir };
}
