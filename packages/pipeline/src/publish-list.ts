import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { BuiltArtifact } from "@trtforge/builder";
import type { ExportReport, ValidationResult } from "@trtforge/export";
import { FP32_ONNX, SERVING_FILES_DIR } from "@trtforge/engine-format";
import type { PublishFile } from "@trtforge/model-store";
import type { PrecisionStageResult } from "./precision-stage.js";
import type { Provenance } from "./provenance.js";

/** Copied when the model has them; config.json is required. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.txt",
  "vocab.json",
  "merges.txt",
  "sentencepiece.bpe.model",
  "spiece.model",
  "added_tokens.json",
] as const;

export interface PublishListInputs {
  artifact: BuiltArtifact;
  provenance: Provenance;
  /** The Hugging Face folder the build started from. */
  modelDir: string;
  onnxPath: string;
  report: ExportReport;
  validation: ValidationResult;
  precision: PrecisionStageResult;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every file of a build's store version, in one list: engine, metadata, records, ONNX, calibration, tokenizer. */
export function publishList(i: PublishListInputs): PublishFile[] {
  const files: PublishFile[] = [
    { path: i.artifact.engineName, data: i.artifact.engineBytes },
    { path: i.artifact.sidecarName, data: i.artifact.sidecarText },
    { path: "provenance.json", data: json(i.provenance) },
    { path: FP32_ONNX, sourcePath: i.onnxPath },
    { path: "export-report.json", data: json(i.report) },
    { path: "validation.json", data: json(i.validation) },
  ];
  const p = i.precision;
  if (p.precision !== "fp32") {
    files.push({ path: basename(p.strong_onnx_file), sourcePath: p.strong_onnx_file });
    files.push({ path: "accuracy.json", data: json(p.accuracy) });
  }
  if (p.calibration) {
    files.push({ path: "calibration.cache", sourcePath: join(p.dir, p.calibration.cache_file) });
    files.push({ path: "calibration.json", sourcePath: join(p.dir, p.calibration.record_file) });
  }
  files.push({ path: `${SERVING_FILES_DIR}/config.json`, sourcePath: join(i.modelDir, "config.json") });
  for (const name of TOKENIZER_FILES) {
    const source = join(i.modelDir, name);
    if (existsSync(source)) files.push({ path: `${SERVING_FILES_DIR}/${name}`, sourcePath: source });
  }
  return files;
}
