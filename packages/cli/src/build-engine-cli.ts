import { join } from "node:path";
import { Command, Option } from "commander";
import { ForgeError } from "@trtforge/core";
import { defaultModelsConfigPath } from "@trtforge/config";
import { assertModeReady, checkHost, formatHostReport, HOST_MODES, type HostMode } from "@trtforge/hostcheck";
import { buildMarkers } from "@trtforge/pipeline";
import { exportCommand } from "./export-cli.js";
import { formatBuildSummary } from "./build-summary.js";
import { addPipelineOptions, runPipelineCli, type PipelineCliOptions } from "./pipeline-cli.js";
import { setupCommand } from "./setup-cli.js";
import { workGcCommand } from "./work-gc-cli.js";
import { cliLogger, runCli } from "./run.js";
import { CLI_VERSION } from "./version.js";

interface BuildEngineOptions extends PipelineCliOptions {
  checkOnly?: boolean;
  for?: HostMode;
  buildMarkers?: boolean;
  config?: string;
  out?: string;
  store?: boolean;
  storeRoot?: string;
  precision?: string;
  maxBatch?: string;
  sequenceLength?: string;
  trtVersion?: string;
  only?: string;
  force?: boolean;
  json?: boolean;
}

async function runCheckOnly(opts: BuildEngineOptions): Promise<void> {
  const report = await checkHost();
  if (opts.json) {
    const ready = opts.for === undefined ? undefined : report.modes[opts.for].ready;
    process.stdout.write(`${JSON.stringify({ ok: ready ?? true, mode: opts.for ?? null, ...report }, null, 2)}\n`);
  } else {
    process.stdout.write(formatHostReport(report));
  }
  if (opts.for !== undefined) assertModeReady(report, opts.for);
}

async function runBuildMarkers(opts: BuildEngineOptions): Promise<void> {
  if ((opts.out === undefined) === (opts.store !== true)) {
    throw new ForgeError("USAGE", "--build-markers needs exactly one of --out <dir> and --store", {
      input: "--out",
      fix: "pass --out <dir> to write files, or --store (with MODEL_STORE_ROOT or --store-root) to publish into the ModelStore",
    });
  }
  const result = await buildMarkers({
    config: opts.config ?? defaultModelsConfigPath(),
    out: opts.out,
    store: opts.store ? { root: opts.storeRoot } : undefined,
    precision: opts.precision,
    maxBatch: opts.maxBatch,
    sequenceLength: opts.sequenceLength,
    trtVersion: opts.trtVersion,
    only: opts.only
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    force: opts.force ?? false,
    logger: cliLogger("build-engine"),
  });
  if (result.published) {
    const versions = result.published.map((p) => ({
      agent: p.agent,
      version: p.version,
      path: p.path,
      checksum: p.checksum,
      current: p.current,
    }));
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, published: versions }, null, 2)}\n`);
    else for (const v of versions) process.stdout.write(`${v.path}\n`);
    return;
  }
  const out = result.out!;
  if (opts.json) {
    const engines = result.artifacts.map((a) => ({
      engine: join(out, a.engineName),
      metadata: join(out, a.sidecarName),
      kind: a.metadata.kind,
      task: a.metadata.task,
      model_id: a.metadata.model_id,
      precision: a.metadata.precision,
      checksum: a.metadata.checksum,
    }));
    process.stdout.write(`${JSON.stringify({ ok: true, out, engines }, null, 2)}\n`);
  } else {
    for (const a of result.artifacts) process.stdout.write(`${join(out, a.engineName)}\n`);
  }
}

async function runModelBuild(opts: PipelineCliOptions): Promise<void> {
  const result = await runPipelineCli(opts);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatBuildSummary(result));
}

export function createBuildEngineProgram(): Command {
  // Options after a subcommand belong to it: `build-engine export --out X` is export's --out.
  const program = new Command("build-engine").enablePositionalOptions();
  program.addCommand(setupCommand());
  program.addCommand(exportCommand());
  program.addCommand(workGcCommand());
  return addPipelineOptions(program)
    .description("Build verified TensorRT engines from Hugging Face models; without TensorRT, check the host or write marker engines")
    .version(CLI_VERSION)
    .option("--check-only", "report what this host has and lacks for each mode")
    .addOption(new Option("--for <mode>", "with --check-only: exit non-zero unless this mode can run").choices([...HOST_MODES]))
    .option("--build-markers", "write a marker engine and v1 metadata for each model of the build matrix")
    .option("--config <file>", "build matrix: the markers' models, and a model build's defaults (default: conf/models.yaml)")
    .option("--out <dir>", "output folder for --build-markers")
    .option("--store", "with --build-markers: publish into the ModelStore (agent trt-<task>, one version per task)")
    .option("--only <tasks>", "comma-separated tasks of the matrix to build")
    .option("--force", "replace existing files in --out")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .action(async (opts: BuildEngineOptions) => {
      if (opts.checkOnly && opts.buildMarkers) {
        throw new ForgeError("USAGE", "--check-only and --build-markers cannot be combined", {
          input: "--check-only",
          fix: "run them one after the other",
        });
      }
      if (opts.for !== undefined && !opts.checkOnly) {
        throw new ForgeError("USAGE", "--for only applies to --check-only", { input: "--for", fix: "add --check-only" });
      }
      if (opts.checkOnly) return runCheckOnly(opts);
      if (opts.buildMarkers) return runBuildMarkers(opts);
      if (opts.model !== undefined) return runModelBuild(opts as PipelineCliOptions);
      throw new ForgeError("USAGE", "nothing to do: pass --model <folder|store:agent>, --check-only or --build-markers", {
        fix: "e.g. build-engine --model store:memory --precision int8 --marker (see build-engine --help)",
      });
    });
}

export async function runBuildEngineCli(argv: readonly string[] = process.argv): Promise<void> {
  await runCli(createBuildEngineProgram(), argv);
}
