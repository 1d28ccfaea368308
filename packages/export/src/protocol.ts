import { z } from "zod";
import { protocolLineParser, protocolMessageSchema } from "./protocol-messages.js";
import { HF_TASKS } from "@trtforge/engine-format";

/**
 * The JSON-lines protocol of the Python exporter (python/trtforge_export): stdout carries only
 * these objects, one per line; free text and tracebacks go to stderr.
 */
const TensorReportSchema = z.looseObject({
  name: z.string().min(1),
  dtype: z.string().min(1),
  shape: z.array(z.union([z.string(), z.number()])),
});

export const ExportReportSchema = z.looseObject({
  model_dir: z.string(),
  model_id: z.string().nullable(),
  hf_revision: z.string().nullable(),
  task: z.enum(HF_TASKS),
  architecture: z.string().nullable().optional(),
  opset: z.number().int(),
  onnx_file: z.string().min(1),
  onnx_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  external_data: z.boolean(),
  inputs: z.array(TensorReportSchema).min(1),
  outputs: z.array(TensorReportSchema).min(1),
  reference: z.looseObject({
    file: z.string().min(1),
    samples: z.number().int().positive(),
    seq_len: z.number().int().positive(),
    /** References at full shapes (--shapes), one safetensors file each. */
    shapes: z
      .array(
        z.looseObject({
          name: z.string().min(1),
          batch: z.number().int().positive(),
          seq_len: z.number().int().positive(),
          file: z.string().min(1),
        }),
      )
      .optional(),
  }),
  versions: z.record(z.string(), z.string().nullable()),
  export_seconds: z.number().optional(),
  reference_seconds: z.number().optional(),
});
export type ExportReport = z.infer<typeof ExportReportSchema>;

export const EXPORTER_ERROR_CODES = ["NOT_A_MODEL", "TASK_UNSUPPORTED", "NEEDS_HUB", "BAD_INPUT", "INTERNAL"] as const;

export const ExporterMessageSchema = protocolMessageSchema(ExportReportSchema, z.enum(EXPORTER_ERROR_CODES));
export type ExporterMessage = z.infer<typeof ExporterMessageSchema>;
export type ExportProgress = Extract<ExporterMessage, { type: "progress" }>;

/** Parses one stdout line of the exporter; anything that is not a protocol message is reported, not guessed at. */
export const parseExporterLine = protocolLineParser(ExporterMessageSchema);
