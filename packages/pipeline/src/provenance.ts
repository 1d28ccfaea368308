import type { BuilderLog } from "./build-artifact.js";
import type { AccuracyFigure } from "@trtforge/accuracy";
import type { BuilderInfo } from "@trtforge/builder";
import type { ExportReport, ValidationResult } from "@trtforge/export";
import type { TrtBuildOptions } from "./build-options.js";
import type { ArticlesRecord } from "./check-articles.js";
import type { RequestField, ValueSource } from "./build-request.js";
import type { CalibrationSummary } from "./precision-stage.js";
import type { AccuracyVerdict } from "./accuracy-policy.js";

/** Where each value of the build request came from: flag, the build matrix entry, default, or the host. */
export interface RequestRecord {
  matrix_entry: string | null;
  sources: Partial<Record<RequestField, ValueSource>>;
  /** --accept-accuracy: publish even below the accuracy gates (the failures are in accuracy_gate). */
  accept_accuracy: boolean;
}

/**
 * Where an engine came from, enough to rebuild it and to know what it was checked against: input
 * hashes, toolchain versions, options, and the validation and accuracy figures.
 */
export interface Provenance {
  schema_version: 1;
  build_key: string;
  kind: "engine" | "marker";
  created_at: string;
  model: { id: string | null; revision: string | null; folder_checksum: string; store_ref: string | null };
  onnx: { fp32_sha256: string; built_from_sha256: string; built_from: string; opset: number };
  calibration: CalibrationSummary | null;
  articles: ArticlesRecord;
  options: TrtBuildOptions;
  request: RequestRecord;
  validation: ValidationResult;
  accuracy: AccuracyFigure[];
  /** Every gate check (form, output, shape, measure, value, threshold) and whether failures were accepted. */
  accuracy_gate: AccuracyVerdict;
  /** The builder's own report where it runs as a child (TensorRT-RTX: its warnings, time, peak memory, targets); null otherwise. */
  builder_log: BuilderLog | null;
  toolchain: {
    trtforge: BuilderInfo;
    node: string;
    python: Record<string, string | null>;
    onnxruntime_node: string | null;
    tensorrt: string;
    cuda: string | null;
    gpu: { name: string; compute_capability: string } | null;
  };
}

export interface ProvenanceInputs {
  buildKey: string;
  kind: "engine" | "marker";
  createdAt: Date;
  modelId: string | undefined;
  revision: string | undefined;
  folderChecksum: string;
  storeRef: string | undefined;
  exportReport: ExportReport;
  validation: ValidationResult;
  builtFrom: { file: string; sha256: string };
  calibration: CalibrationSummary | null;
  articles: ArticlesRecord;
  accuracy: AccuracyFigure[];
  accuracyGate: AccuracyVerdict;
  builderLog: BuilderLog | undefined;
  options: TrtBuildOptions;
  request: RequestRecord;
  builder: BuilderInfo;
  onnxruntimeNode: string | null;
  cuda: string | null;
  gpu: { name: string; compute_capability: string } | null;
}

export function provenanceRecord(i: ProvenanceInputs): Provenance {
  return {
    schema_version: 1,
    build_key: i.buildKey,
    kind: i.kind,
    created_at: i.createdAt.toISOString(),
    model: { id: i.modelId ?? null, revision: i.revision ?? null, folder_checksum: i.folderChecksum, store_ref: i.storeRef ?? null },
    onnx: {
      fp32_sha256: i.exportReport.onnx_sha256,
      built_from_sha256: i.builtFrom.sha256,
      built_from: i.builtFrom.file,
      opset: i.exportReport.opset,
    },
    calibration: i.calibration,
    articles: i.articles,
    options: i.options,
    request: i.request,
    validation: i.validation,
    accuracy: i.accuracy,
    accuracy_gate: i.accuracyGate,
    builder_log: i.builderLog ?? null,
    toolchain: {
      trtforge: i.builder,
      node: process.versions.node,
      python: i.exportReport.versions,
      onnxruntime_node: i.onnxruntimeNode,
      tensorrt: i.options.trtVersion,
      cuda: i.cuda,
      gpu: i.gpu,
    },
  };
}
