import { existsSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ForgeError, fsError, writeFileAtomic, writeFolderAtomic, type Logger, type OnProgress } from "@trtforge/core";
import { readArticles, splitArticles } from "@trtforge/articles";
import type { ExportReport } from "./protocol.js";
import { checkedPython } from "./python-env.js";
import { runExporter, type ExporterArgs } from "./run-exporter.js";
import { assertSequenceLength, modelSequenceLimit } from "./sequence-limit.js";
import type { ShapeCase } from "./shape-cases.js";
import { DEFAULT_TOLERANCES, type Tolerance } from "./tolerances.js";
import { validateOnnx, type ValidationResult } from "./validate-onnx.js";

export interface ExportModelOptions {
  modelDir: string;
  /** Folder to create with model.onnx, report.json, reference.safetensors, samples.jsonl, validation.json. */
  out: string;
  force?: boolean;
  task?: ExporterArgs["task"];
  opset?: number;
  /** Articles for the reference outputs: JSONL, AG News CSV, a folder or a file. */
  samples: string;
  maxSamples?: number;
  seqLen?: number;
  /** Full shapes to validate at besides the samples (the build profile's min, opt and max). */
  shapes?: readonly ShapeCase[];
  batchSize?: number;
  seed?: number;
  modelId?: string;
  revision?: string;
  externalData?: ExporterArgs["externalData"];
  tolerance?: Tolerance;
  timeoutMs?: number;
  signal?: AbortSignal;
  logger: Logger;
  onProgress?: OnProgress | undefined;
}

export interface ExportModelResult {
  dir: string;
  onnxPath: string;
  report: ExportReport;
  validation: ValidationResult;
  samplesSha256: string;
}

export const DEFAULT_EXPORT_TIMEOUT_MS = 30 * 60 * 1000;

async function assertModelFolder(modelDir: string): Promise<void> {
  let info;
  try {
    info = await stat(modelDir);
  } catch (err) {
    throw fsError(err, modelDir, "reading the model");
  }
  if (!info.isDirectory()) {
    throw new ForgeError("NOT_A_DIRECTORY", `${modelDir} is not a folder; a Hugging Face model folder was expected`, {
      input: modelDir,
      fix: "pass the folder holding config.json, the weights and the tokenizer",
    });
  }
  if (!existsSync(join(modelDir, "config.json"))) {
    throw new ForgeError("EXPORT_NOT_A_MODEL", `${modelDir} is not a Hugging Face model folder: it has no config.json`, {
      input: modelDir,
      fix: "pass the folder holding config.json, the weights (*.safetensors or *.bin) and the tokenizer",
    });
  }
}

function formatValidation(v: ValidationResult): string {
  const line = (o: ValidationResult["outputs"][number], where: string) =>
    `  ${o.output}${where}: max |diff| ${o.max_abs_diff.toExponential(3)} (limit ${v.tolerance.maxAbsDiff}), cosine mean ${o.cosine_mean.toFixed(6)} min ${o.cosine_min.toFixed(6)} (limit ${v.tolerance.minCosine}) over ${o.samples} samples${o.passed ? "" : "  <- over tolerance"}`;
  return [
    ...v.outputs.map((o) => line(o, "")),
    ...v.shapes.flatMap((s) => s.outputs.map((o) => line(o, ` at ${s.name} shape [${s.batch}, ${s.seq_len}]`))),
  ].join("\n");
}

/**
 * HF folder → validated ONNX. Everything is produced in a temporary sibling of `out` and moved into
 * place only when the export and its validation against PyTorch both succeed; on failure, timeout
 * or Ctrl-C the temporary folder is removed.
 */
export async function exportModel(options: ExportModelOptions): Promise<ExportModelResult> {
  const modelDir = resolve(options.modelDir);
  const out = resolve(options.out);
  await assertModelFolder(modelDir);
  const limit = await modelSequenceLimit(modelDir);
  assertSequenceLength(options.seqLen ?? 128, limit, "--seq-len", modelDir);
  for (const shape of options.shapes ?? [])
    assertSequenceLength(shape.seqLen, limit, `the ${shape.name} shape's sequence length`, modelDir);
  if (existsSync(out) && !options.force) {
    throw new ForgeError("OUTPUT_EXISTS", `${out} already exists`, {
      input: out,
      fix: "choose another output folder or pass --force to replace it",
    });
  }
  const python = await checkedPython();
  const articles = await readArticles(options.samples);
  const maxSamples = options.maxSamples ?? 64;
  if (articles.articles.length < maxSamples) {
    options.logger.warn(
      { available: articles.articles.length, asked: maxSamples },
      "fewer articles than reference samples asked for: using all of them",
    );
  }
  const { sample } = splitArticles(articles, { seed: options.seed ?? 0, sampleSize: Math.min(maxSamples, articles.articles.length) });

  try {
    await stat(dirname(out));
  } catch (err) {
    throw fsError(err, dirname(out), "preparing the output folder");
  }
  return writeFolderAtomic(
    out,
    async (temp) => {
      const samplesFile = join(temp, "samples.jsonl");
      await writeFile(samplesFile, sample.map((a) => JSON.stringify({ text: a.text, origin: a.origin })).join("\n") + "\n");
      const report = await runExporter(
        {
          modelDir,
          outDir: temp,
          task: options.task ?? "auto",
          opset: options.opset ?? 17,
          samplesFile,
          maxSamples: sample.length,
          seqLen: options.seqLen ?? 128,
          batchSize: options.batchSize ?? 16,
          modelId: options.modelId,
          revision: options.revision,
          externalData: options.externalData ?? "auto",
          shapes: options.shapes,
        },
        {
          python,
          timeoutMs: options.timeoutMs ?? DEFAULT_EXPORT_TIMEOUT_MS,
          signal: options.signal,
          logger: options.logger,
          onProgress: options.onProgress,
        },
      );
      const validation = await validateOnnx({
        onnxPath: join(temp, basename(report.onnx_file)),
        referencePath: join(temp, basename(report.reference.file)),
        inputNames: report.inputs.map((i) => i.name),
        outputNames: report.outputs.map((o) => o.name),
        shapeReferences: (report.reference.shapes ?? []).map((r) => ({
          name: r.name,
          batch: r.batch,
          seqLen: r.seq_len,
          path: join(temp, basename(r.file)),
        })),
        tolerance: options.tolerance ?? DEFAULT_TOLERANCES.fp32,
        onBatch: (done, total) => options.onProgress?.({ stage: "validate", current: done, total }),
      });
      for (const o of validation.outputs) {
        options.logger.info(
          { stage: "validate", output: o.output, max_abs_diff: o.max_abs_diff, cosine_min: o.cosine_min, samples: o.samples },
          `validated ${o.output}: ONNX Runtime vs PyTorch max |diff| ${o.max_abs_diff.toExponential(2)}, cosine min ${o.cosine_min.toFixed(6)} on ${o.samples} articles`,
        );
      }
      const shapes = validation.shapes.map((s) => `${s.name} [${s.batch}, ${s.seq_len}] ${s.passed ? "ok" : "FAILED"}`).join(", ");
      options.logger.info(
        { stage: "validate", shapes: validation.shapes.map((s) => ({ name: s.name, shape: [s.batch, s.seq_len], passed: s.passed })) },
        `validated at the profile's shapes: ${shapes}`,
      );
      if (!validation.passed) {
        throw new ForgeError(
          "VALIDATION_FAILED",
          `the exported ONNX differs from PyTorch beyond tolerance:\n${formatValidation(validation)}`,
          {
            input: modelDir,
            fix: "the export is wrong for this model: try another --opset, or report the model; the numbers above are ONNX Runtime against PyTorch on the same articles",
            details: { validation },
          },
        );
      }
      await writeFileAtomic(
        join(temp, "validation.json"),
        `${JSON.stringify({ reference: "pytorch-fp32", candidate: "onnx-fp32-onnxruntime", samples_sha256: articles.sha256, ...validation }, null, 2)}\n`,
      );
      return { dir: out, onnxPath: join(out, basename(report.onnx_file)), report, validation, samplesSha256: articles.sha256 };
    },
    { replace: options.force ?? false },
  );
}
