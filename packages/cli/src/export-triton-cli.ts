import { Command, Option } from "commander";
import { ForgeError, type Logger } from "@trtforge/core";
import { exportTriton, type ExportTritonResult, type VersionSelection } from "@trtforge/triton-export";
import { storeRootFromFlag } from "./store-root-flag.js";

interface ExportTritonFlags {
  root?: string;
  json?: boolean;
  out: string;
  model: string[];
  versions: string;
  deviceMap?: string;
  link?: boolean;
  copy?: boolean;
  force?: boolean;
  requireReal?: boolean;
  testOnlyPythonOnnx?: boolean;
}

function parseSelection(text: string): VersionSelection {
  if (text === "current" || text === "all") return text;
  if (/^\d+$/.test(text) && Number(text) > 0) return Number(text);
  throw new ForgeError("USAGE", `--versions must be current, all or a positive count, got "${text}"`, {
    input: "--versions",
    fix: "pass --versions current (default), all, or e.g. --versions 3 for the three newest",
  });
}

function parseModel(text: string): { agent: string; version?: string } {
  const at = text.indexOf("@");
  if (at === 0 || at === text.length - 1)
    throw new ForgeError("USAGE", `--model must be <agent> or <agent>@<version>, got "${text}"`, {
      input: "--model",
      fix: "e.g. --model trt-embeddings or --model trt-embeddings@build-0123456789abcdef",
    });
  return at < 0 ? { agent: text } : { agent: text.slice(0, at), version: text.slice(at + 1) };
}

function describe(result: ExportTritonResult): string {
  const lines = [`wrote Triton model repository ${result.out} (${result.files} files) from ${result.storeRoot}`];
  for (const m of result.models) lines.push(`  ${m.name}\t${m.kind}\tversions ${m.versions.join(", ")}`);
  for (const [agent, versions] of Object.entries(result.numbers))
    for (const [version, number] of Object.entries(versions)) lines.push(`  ${agent}/${version} -> ${number}`);
  for (const s of result.skippedPlans) lines.push(`  no plan for ${s.agent}/${s.version}: ${s.reason}`);
  return lines.join("\n");
}

/** `model-store export-triton`: parses its flags, calls @trtforge/triton-export, prints. */
export function addExportTritonCommand(program: Command, logger: () => Logger): void {
  program
    .command("export-triton")
    .description(
      "write the store's agents as a Triton Inference Server model repository (plans, ONNX fallback, tokenizer model, text ensemble), atomically",
    )
    .option("--root <dir>", "model store root (default: $MODEL_STORE_ROOT)")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)")
    .requiredOption("--out <dir>", "repository folder to write (replaced atomically)")
    .option(
      "--model <agent[@version]>",
      "agent to export, optionally one version (repeatable; default: every agent)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--versions <which>", "versions of each agent: current, all, or the N newest", "current")
    .option("--device-map <file>", "engine device map (conf/engine_device_map.yaml) for instance_group gpus")
    .addOption(
      new Option("--link", "hard-link store files into the repository (falls back to copying across filesystems)").conflicts("copy"),
    )
    .addOption(new Option("--copy", "copy store files (default)").conflicts("link"))
    .option("--force", "replace a folder that is not this store's repository")
    .option("--require-real", "fail when a version's engine is a marker instead of skipping its plan")
    .addOption(
      new Option("--test-only-python-onnx", "TESTS ONLY: a Python-backend onnxruntime model in place of onnxruntime_onnx").hideHelp(),
    )
    .action(async (opts: ExportTritonFlags) => {
      const result = await exportTriton({
        storeRoot: storeRootFromFlag(opts.root, "--root"),
        out: opts.out,
        models: opts.model.map(parseModel),
        versions: parseSelection(opts.versions),
        ...(opts.deviceMap === undefined ? {} : { deviceMapPath: opts.deviceMap }),
        mode: opts.link ? "link" : "copy",
        force: opts.force ?? false,
        requireReal: opts.requireReal ?? false,
        testOnlyPythonOnnx: opts.testOnlyPythonOnnx ?? false,
        logger: logger(),
      });
      process.stdout.write(opts.json ? `${JSON.stringify({ ok: true, ...result }, null, 2)}\n` : `${describe(result)}\n`);
    });
}
