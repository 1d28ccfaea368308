import { Command, Option } from "commander";
import { ForgeError, isForgeError } from "@trtforge/core";
import { formatVerifyReport, verifyEngine, verifyReportJson } from "@trtforge/verify";
import { runCli } from "./run.js";
import { CLI_VERSION } from "./version.js";

/**
 * verify-engine keeps the conventional exit codes whatever went wrong: 0 ok, 1 a problem was
 * found in the engine or its metadata, 2 the command itself was misused (including an engine
 * path that is missing or a folder).
 */
export function createVerifyEngineProgram(): Command {
  return new Command("verify-engine")
    .description("Check an engine (or marker) against its metadata and, optionally, a runtime")
    .version(CLI_VERSION)
    .argument("<engine>", "path of the .engine file; its metadata is the .json beside it")
    .option("--json", "print one JSON object: ok, kind, schema, problems, checks, ...")
    .option("--require-real", "fail on markers: only a real TensorRT or TensorRT-RTX plan passes")
    .option("--allow-legacy", "accept a JustNewsAgent sidecar with a warning instead of a problem")
    .option("--metadata <file>", "metadata path when it is not <engine stem>.json")
    .addOption(new Option("--runtime-trt-version <X.Y.Z>", "TensorRT version of the runtime that would load the engine"))
    .addOption(new Option("--runtime-compute-capability <M.m>", "compute capability of the GPU that would run it"))
    .addOption(new Option("--runtime-trt-rtx-version <X.Y.Z.B>", "TensorRT-RTX version of the runtime that would load a TensorRT-RTX plan"))
    .action(async (engine: string, opts: Record<string, string | boolean | undefined>) => {
      let report;
      try {
        report = await verifyEngine(engine, {
          requireReal: opts.requireReal === true,
          allowLegacy: opts.allowLegacy === true,
          ...(typeof opts.metadata === "string" ? { sidecar: opts.metadata } : {}),
          runtime: {
            ...(typeof opts.runtimeTrtVersion === "string" ? { trtVersion: opts.runtimeTrtVersion } : {}),
            ...(typeof opts.runtimeComputeCapability === "string" ? { computeCapability: opts.runtimeComputeCapability } : {}),
            ...(typeof opts.runtimeTrtRtxVersion === "string" ? { trtRtxVersion: opts.runtimeTrtRtxVersion } : {}),
          },
        });
      } catch (err) {
        if (isForgeError(err) && err.code !== "INTERNAL") {
          throw new ForgeError("USAGE", err.message, { input: engine, ...(err.fix === undefined ? {} : { fix: err.fix }), cause: err });
        }
        throw err;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(verifyReportJson(report), null, 2)}\n`);
      else process.stdout.write(formatVerifyReport(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

export async function runVerifyEngineCli(argv: readonly string[] = process.argv): Promise<void> {
  await runCli(createVerifyEngineProgram(), argv);
}
