import { join } from "node:path";
import type { Logger } from "@trtforge/core";
import { exportModel, type ExportReport, type ValidationResult } from "@trtforge/export";
import { computeChecksum } from "@trtforge/model-store";
import { contentKey } from "./content-key.js";
import { runStage } from "./stage-dir.js";
import type { HfTaskChoice } from "@trtforge/engine-format";

export interface ExportStageOptions {
  workRoot: string;
  modelDir: string;
  modelId: string | undefined;
  revision: string | undefined;
  task: HfTaskChoice;
  opset: number;
  samples: string;
  samplesSha256: string;
  seqLen: number;
  toolVersion: string;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (stage: string, current: number, total: number) => void;
}

export interface ExportStageSummary {
  onnx_path: string;
  model_checksum: string;
  report: ExportReport;
  validation: ValidationResult;
}

/** HF folder → validated fp32 ONNX, keyed by the folder's content and every export option. */
export async function exportStage(o: ExportStageOptions): Promise<ExportStageSummary & { reused: boolean; dir: string }> {
  const modelChecksum = await computeChecksum(o.modelDir);
  const key = contentKey({ stage: "export", modelChecksum, modelId: o.modelId, revision: o.revision, task: o.task, opset: o.opset, samples: o.samplesSha256, seqLen: o.seqLen, tool: o.toolVersion });
  const result = await runStage<ExportStageSummary>(o.workRoot, "export", key, async (temp) => {
    const exported = await exportModel({
      modelDir: o.modelDir,
      out: join(temp, "onnx"),
      task: o.task,
      opset: o.opset,
      samples: o.samples,
      seqLen: o.seqLen,
      ...(o.modelId ? { modelId: o.modelId } : {}),
      ...(o.revision ? { revision: o.revision } : {}),
      log: o.log,
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => o.onProgress?.(p.stage, p.current, p.total),
    });
    return { onnx_path: "onnx/model.onnx", model_checksum: modelChecksum, report: exported.report, validation: exported.validation };
  });
  if (result.reused) o.log.info({ dir: result.dir }, "export: reusing an identical earlier export");
  return { ...result.summary, onnx_path: join(result.dir, result.summary.onnx_path), reused: result.reused, dir: result.dir };
}
