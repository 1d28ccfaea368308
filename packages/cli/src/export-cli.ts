import { Command, Option } from "commander";
import { exportModel } from "@trtforge/export";
import {
  BUILD_OPTIONS,
  defaultSamplesPath,
  normalizeExportRequest,
  optionHelp,
  requestFromFlags,
  resolveModelSource,
  type BuildOptionRow,
} from "@trtforge/pipeline";
import { withSigintAbort } from "./abort-on-sigint.js";
import { parseInteger } from "./parse-options.js";
import { createProgress } from "./progress.js";
import { cliLogger } from "./run.js";
import { commanderOptions } from "./pipeline-cli.js";

interface ExportOptions extends Record<string, unknown> {
  model: string;
  out: string;
  maxSamples: string;
  modelId?: string;
  revision?: string;
  externalData: "auto" | "always" | "never";
  exportTimeout: string;
  storeRoot?: string;
  force?: boolean;
  json?: boolean;
}

export function exportCommand(): Command {
  const command = new Command("export")
    .description("Export a Hugging Face model folder to ONNX and validate it against PyTorch on real articles")
    .requiredOption(
      "--model <folder|store:agent[@version]>",
      "Hugging Face model folder (config.json, weights, tokenizer), or a ModelStore reference",
    )
    .option("--store-root <dir>", "ModelStore root for store: references (default: $MODEL_STORE_ROOT)")
    .requiredOption("--out <dir>", "folder to create: model.onnx, report.json, reference.safetensors, samples.jsonl, validation.json");
  // The build's own rows, so the names, defaults and checks are build-engine's; --samples and --seq-len
  // stay as aliases. No build matrix applies here, so the help states the built-in default alone.
  for (const row of [BUILD_OPTIONS.hfTask, BUILD_OPTIONS.opset, BUILD_OPTIONS.articles, BUILD_OPTIONS.sequenceLength] as BuildOptionRow[]) {
    for (const option of commanderOptions(row, optionHelp(row, { matrix: false }))) command.addOption(option);
  }
  return command
    .option("--max-samples <n>", "how many articles to run through PyTorch and ONNX Runtime", "64")
    .option("--model-id <id>", "Hugging Face id to record (e.g. sentence-transformers/all-MiniLM-L6-v2)")
    .option("--revision <rev>", "Hugging Face revision to record")
    .addOption(new Option("--external-data <mode>", "weights outside model.onnx").choices(["auto", "always", "never"]).default("auto"))
    .option("--export-timeout <seconds>", "stop the exporter after this long", "1800")
    .option("--force", "replace --out if it exists")
    .option("--json", "print the result as JSON on stdout")
    .action(async (opts: ExportOptions) => {
      const log = cliLogger("build-engine");
      const progress = createProgress(log);
      try {
        const request = normalizeExportRequest(requestFromFlags(opts), defaultSamplesPath());
        const source = await resolveModelSource(opts.model, opts.storeRoot);
        const modelId = opts.modelId ?? source.modelId;
        const revision = opts.revision ?? source.revision;
        const result = await withSigintAbort((signal) =>
          exportModel({
            modelDir: source.folder,
            out: opts.out,
            force: opts.force ?? false,
            task: request.hfTask,
            opset: request.opset,
            samples: request.articles,
            maxSamples: parseInteger(opts.maxSamples, "--max-samples"),
            seqLen: request.sequenceLength,
            ...(modelId ? { modelId } : {}),
            ...(revision ? { revision } : {}),
            externalData: opts.externalData,
            timeoutMs: parseInteger(opts.exportTimeout, "--export-timeout") * 1000,
            signal,
            logger: log,
            onProgress: (p) => progress.update(p.stage, p.current, p.total, p.message),
          }),
        );
        progress.stop();
        const summary = {
          ok: true,
          dir: result.dir,
          onnx: result.onnxPath,
          onnx_sha256: result.report.onnx_sha256,
          task: result.report.task,
          inputs: result.report.inputs.map((i) => i.name),
          outputs: result.report.outputs.map((o) => o.name),
          validation: result.validation,
          export_seconds: result.report.export_seconds,
        };
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          process.stdout.write(`${result.onnxPath}\n`);
          for (const o of result.validation.outputs) {
            process.stdout.write(
              `  ${o.output}: max |diff| ${o.max_abs_diff.toExponential(2)}, cosine mean ${o.cosine_mean.toFixed(7)} min ${o.cosine_min.toFixed(7)} (${o.samples} articles, ONNX Runtime vs PyTorch)\n`,
            );
          }
        }
      } finally {
        progress.stop();
      }
    });
}
