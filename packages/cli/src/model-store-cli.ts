import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ForgeError, type Logger } from "@trtforge/core";
import {
  assertVerified,
  gc,
  importHfModel,
  listAgents,
  listVersions,
  describeAccuracyGate,
  formatShapes,
  promoteWithEvidence,
  promotionsOf,
  publish,
  rollback,
  showVersion,
  verifyVersion,
  type BuildFacts,
  type GcReport,
  type PromotionRecord,
  type PublishResult,
  type StoreOptions,
  type VerifyReport,
} from "@trtforge/model-store";
import { EVIDENCE_FLAG_HELP, evidenceChoiceOf, type EvidenceFlags } from "./evidence-flags.js";
import { addExportTritonCommand } from "./export-triton-cli.js";
import { parseInteger } from "./parse-options.js";
import { storeRootFromFlag } from "./store-root-flag.js";
import { cliLogger, runCli } from "./run.js";
import { CLI_VERSION } from "./version.js";

interface CommonOptions {
  root?: string;
  json?: boolean;
  lockWait?: string;
}

interface WriteOptions extends CommonOptions {
  agent: string;
  version?: string;
  metadata?: string;
  keep?: string;
  setCurrent: boolean;
}

let logger: Logger | undefined;
function log(): Logger {
  logger ??= cliLogger("model-store");
  return logger;
}

function storeOptions(opts: CommonOptions): StoreOptions {
  return {
    root: storeRootFromFlag(opts.root, "--root"),
    logger: log(),
    ...(opts.lockWait === undefined ? {} : { lockWaitMs: parseInteger(opts.lockWait, "--lock-wait") * 1000 }),
  };
}

/** `--metadata '{"k":"v"}'` or `--metadata @file.json`. */
function parseMetadata(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (err) {
      throw new ForgeError("FILE_NOT_FOUND", `cannot read --metadata file ${text.slice(1)}: ${(err as Error).message}`, {
        input: "--metadata",
        fix: "check the path after @",
      });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new ForgeError("JSON_MALFORMED", `--metadata is not JSON: ${(err as Error).message}`, {
      input: "--metadata",
      fix: `pass a JSON object, e.g. --metadata '{"author":"ops"}'`,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ForgeError("JSON_MALFORMED", "--metadata must be a JSON object", {
      input: "--metadata",
      fix: `pass a JSON object, e.g. --metadata '{"author":"ops"}'`,
    });
  }
  return value as Record<string, unknown>;
}

function keepCount(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseInteger(text, "--keep");
}

/** stdout carries only the result: one JSON document under --json, short lines otherwise. */
function emit(opts: CommonOptions, json: Record<string, unknown>, human: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify({ ok: true, ...json }, null, 2)}\n` : human.endsWith("\n") ? human : `${human}\n`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function describePublish(result: PublishResult): string {
  const lines = [
    `published ${result.agent}/${result.version}: ${result.fileCount} files, ${megabytes(result.totalBytes)}, checksum ${result.checksum}${result.current ? " (now current)" : ""}`,
    `  ${result.path}`,
  ];
  if (result.cleanedStaging.length > 0) lines.push(`  removed stale staging: ${result.cleanedStaging.join(", ")}`);
  if (result.retention && result.retention.remove.length > 0) lines.push(`  removed old versions: ${result.retention.remove.join(", ")}`);
  return lines.join("\n");
}

/** "engine int8 1x1..16x128..32x256 TensorRT 10.16.0", or "" for a version that is not a build. */
function describeBuild(build: BuildFacts): string {
  const parts = [
    build.kind,
    build.precision,
    build.shapes === undefined ? undefined : formatShapes(build.shapes),
    build.trtVersion === undefined ? undefined : `TensorRT ${build.trtVersion}`,
  ];
  return parts.filter((p) => p !== undefined).join(" ");
}

function describeVerify(report: VerifyReport): string {
  const rate = report.seconds > 0 ? ` (${(report.totalBytes / 1e6 / report.seconds).toFixed(0)} MB/s)` : "";
  return `ok ${report.agent}/${report.version}: ${report.fileCount} files, ${megabytes(report.totalBytes)} verified in ${report.seconds.toFixed(2)} s${rate}`;
}

function describeGc(report: GcReport): string {
  const lines = report.agents.map((a) => {
    const verb = report.dryRun ? "would remove" : "removed";
    const parts = [
      `${a.agent}: keep ${a.retention.keep.join(", ") || "-"}`,
      `${verb} versions ${a.retention.remove.join(", ") || "-"}`,
      `${verb} stale staging ${a.staleStaging.map((s) => s.name).join(", ") || "-"}`,
    ];
    if (a.retention.skipped.length > 0) parts.push(`skipped ${a.retention.skipped.map((s) => s.version).join(", ")} (unreadable manifest)`);
    if (a.activeStaging.length > 0) parts.push(`in progress ${a.activeStaging.map((s) => s.name).join(", ")}`);
    return parts.join("; ");
  });
  return lines.length > 0 ? lines.join("\n") : "no agents";
}

function common(command: Command): Command {
  return command
    .option("--root <dir>", "model store root (default: $MODEL_STORE_ROOT)")
    .option("--json", "print the result as JSON on stdout (logs stay on stderr)");
}

function describePromotion(p: PromotionRecord): string {
  const basis =
    p.evidence === "report"
      ? `on compare report ${p.report_path ?? "?"} (sha256 ${p.report_sha256 ?? "?"}, ${p.report_created_at ?? "?"})`
      : p.evidence === "none"
        ? "WITHOUT evidence (--without-evidence)"
        : "as the agent's first version";
  return `${p.at} by ${p.by} over ${p.from ?? "(none)"} ${basis}`;
}

interface PromoteFlags extends EvidenceFlags {
  agent?: string;
  version?: string;
  verify: boolean;
}

/** `promote <agent> <version>`, `promote --agent A <version>` and `promote --agent A --version V` all name the same thing. */
function promoteTarget(first: string | undefined, second: string | undefined, opts: PromoteFlags): { agent: string; version: string } {
  const positional = [first, second].filter((p): p is string => p !== undefined);
  const agent = opts.agent ?? positional.shift();
  const version = opts.version ?? positional.shift();
  if (agent === undefined || version === undefined || positional.length > 0) {
    throw new ForgeError(
      "USAGE",
      positional.length > 0
        ? `promote got more names than it takes: ${positional.map((p) => `"${p}"`).join(", ")}`
        : `promote needs ${agent === undefined ? "an agent and a version" : "a version"}`,
      { fix: "model-store promote --agent <agent> --version <version> (or: model-store promote <agent> <version>)" },
    );
  }
  return { agent, version };
}

function writer(command: Command): Command {
  return common(command).option(
    "--lock-wait <seconds>",
    "how long to wait for another writer of the same agent before STORE_LOCKED (default 60)",
  );
}

export function createModelStoreProgram(): Command {
  const program = new Command("model-store")
    .description(
      "Versioned, verified model folders per agent, compatible with JustNewsAgent's ModelStore ($MODEL_STORE_ROOT/<agent>/versions/<version>, <agent>/current)",
    )
    .version(CLI_VERSION)
    // Program options only before the subcommand: `publish --version v1` names a version, not a request for ours.
    .enablePositionalOptions();

  writer(program.command("publish"))
    .description("publish a folder as a new version and make it current (atomic: readers see the old or the new version, never a mix)")
    .argument("<folder>", "folder to publish")
    .requiredOption("--agent <name>", "agent the version belongs to")
    .option("--version <name>", "version name (default: vYYYYMMDD-HHMMSS, UTC)")
    .option("--metadata <json>", "JSON object (or @file) recorded in the manifest's metadata")
    .option("--keep <n>", "afterwards remove all but the n newest versions (current and its previous one always stay)")
    .option("--no-set-current", "publish without switching current")
    .action(async (folder: string, opts: WriteOptions) => {
      const metadata = parseMetadata(opts.metadata);
      const keep = keepCount(opts.keep);
      const result = await publish({
        ...storeOptions(opts),
        agent: opts.agent,
        ...(opts.version === undefined ? {} : { version: opts.version }),
        sourceDir: folder,
        ...(metadata === undefined ? {} : { metadata }),
        ...(keep === undefined ? {} : { keep }),
        setCurrent: opts.setCurrent,
      });
      emit(opts, { ...result }, describePublish(result));
    });

  writer(program.command("import-hf"))
    .description("import a Hugging Face model folder (config.json, weights, tokenizer) as a new version, recording model id and revision")
    .requiredOption("--agent <name>", "agent the version belongs to")
    .requiredOption("--model <folder>", "model folder, HF cache repo folder (models--org--name) or snapshot folder")
    .option("--model-id <id>", "Hugging Face model id, e.g. sentence-transformers/all-MiniLM-L6-v2")
    .option("--revision <rev>", "Hugging Face revision (commit hash) of the files")
    .option("--version <name>", "version name (default: vYYYYMMDD-HHMMSS, UTC)")
    .addOption(
      new Option("--layout <layout>", "flat: files at the top of the version; hf-cache: under models--org--name/snapshots/<rev>/")
        .choices(["flat", "hf-cache"])
        .default("flat"),
    )
    .option("--metadata <json>", "JSON object (or @file) recorded in the manifest's metadata")
    .option("--keep <n>", "afterwards remove all but the n newest versions")
    .option("--no-set-current", "import without switching current")
    .action(async (opts: WriteOptions & { model: string; modelId?: string; revision?: string; layout: "flat" | "hf-cache" }) => {
      const metadata = parseMetadata(opts.metadata);
      const keep = keepCount(opts.keep);
      const result = await importHfModel({
        ...storeOptions(opts),
        agent: opts.agent,
        modelDir: opts.model,
        ...(opts.modelId === undefined ? {} : { modelId: opts.modelId }),
        ...(opts.revision === undefined ? {} : { revision: opts.revision }),
        ...(opts.version === undefined ? {} : { version: opts.version }),
        layout: opts.layout,
        ...(metadata === undefined ? {} : { metadata }),
        ...(keep === undefined ? {} : { keep }),
        setCurrent: opts.setCurrent,
      });
      const id = result.modelId === undefined ? "" : ` ${result.modelId}${result.revision === undefined ? "" : `@${result.revision}`}`;
      emit(
        opts,
        { ...result },
        `${describePublish(result)}\n  model${id}: ${result.model.modelType ?? "unknown type"}, weights ${result.model.weightFiles.join(", ")}`,
      );
    });

  common(program.command("list"))
    .description("list agents, or the versions of one agent (oldest first) with its staging folders")
    .option("--agent <name>", "list this agent's versions")
    .action(async (opts: CommonOptions & { agent?: string }) => {
      if (opts.agent === undefined) {
        const agents = await listAgents(storeOptions(opts));
        const lines = agents.map((a) => `${a.agent}\tcurrent=${a.current ?? a.currentProblem ?? "-"}\tversions=${a.versionCount}`);
        emit(opts, { agents }, lines.join("\n") || "no agents");
        return;
      }
      const listing = await listVersions({ ...storeOptions(opts), agent: opts.agent });
      const lines = listing.versions.map((v) => {
        const model = v.modelId === undefined ? "" : `\t${v.modelId}${v.revision === undefined ? "" : `@${v.revision}`}`;
        const build = describeBuild(v.build);
        return `${v.isCurrent ? "*" : " "} ${v.version}\t${v.createdAt}\t${v.manifest}${v.layout === "legacy" ? " (legacy)" : ""}${build === "" ? "" : `\t${build}`}${model}`;
      });
      for (const s of listing.staging) lines.push(`  ${s.name}\tstaging: ${s.stale ? "stale, " : ""}${s.reason}`);
      if (listing.currentProblem !== undefined) lines.push(`current: ${listing.currentProblem}`);
      if (listing.versions.length > 0)
        lines.push(
          `(* = current${listing.current === undefined ? "; no current version: model-store promote " + listing.agent + " <version> picks one" : ""})`,
        );
      emit(opts, { ...listing }, lines.join("\n") || "no versions");
    });

  common(program.command("show"))
    .description("show a version's manifest and model folder (default: current)")
    .requiredOption("--agent <name>", "agent")
    .option("--version <name>", "version (default: current)")
    .action(async (opts: CommonOptions & { agent: string; version?: string }) => {
      const details = await showVersion({
        ...storeOptions(opts),
        agent: opts.agent,
        ...(opts.version === undefined ? {} : { version: opts.version }),
      });
      const lines = [
        `${details.agent}/${details.version}${details.isCurrent ? " (current)" : ` (not current; current: ${details.currentVersion})`}`,
        `  path: ${details.path}`,
        ...(describeBuild(details.build) === "" ? [] : [`  build: ${describeBuild(details.build)}`]),
        ...(describeAccuracyGate(details.build.accuracyGate) === undefined
          ? []
          : [`  accuracy: ${describeAccuracyGate(details.build.accuracyGate)}`]),
        `  layout: ${details.layout}`,
        `  checksum: ${details.manifest.checksum}`,
        ...(details.createdAt === undefined ? [] : [`  created: ${details.createdAt}`]),
        // What was believed when it was made current: rollback leaves these in place.
        ...promotionsOf(details.manifest.metadata).map((p) => `  promoted: ${describePromotion(p)}`),
        ...(details.model === undefined
          ? []
          : [
              `  model: ${details.model.folder}${details.model.modelId === undefined ? "" : ` (${details.model.modelId}${details.model.revision === undefined ? "" : `@${details.model.revision}`})`}`,
            ]),
      ];
      emit(opts, { ...details }, lines.join("\n"));
    });

  common(program.command("verify"))
    .description("recompute a version's checksums (default: current); names the first damaged file")
    .requiredOption("--agent <name>", "agent")
    .option("--version <name>", "version (default: current)")
    .action(async (opts: CommonOptions & { agent: string; version?: string }) => {
      const report = await verifyVersion({
        ...storeOptions(opts),
        agent: opts.agent,
        ...(opts.version === undefined ? {} : { version: opts.version }),
      });
      assertVerified(report);
      emit(opts, { ...report }, describeVerify(report));
    });

  writer(program.command("rollback"))
    .description(
      "switch current back to the version it pointed to before its last switch (by publication time where no switch was recorded), after verifying it",
    )
    .requiredOption("--agent <name>", "agent")
    .option("--to <version>", "switch to this version instead of the previous one")
    .option("--no-verify", "switch without verifying the target first")
    .action(async (opts: CommonOptions & { agent: string; to?: string; verify: boolean }) => {
      const result = await rollback({
        ...storeOptions(opts),
        agent: opts.agent,
        ...(opts.to === undefined ? {} : { to: opts.to }),
        verify: opts.verify,
      });
      const why =
        result.basis === "history" ? ", undoing the last switch" : result.basis === "publication" ? ", the version published before" : "";
      emit(opts, { ...result }, `${result.agent}: current ${result.from} -> ${result.to}${why}${result.verification ? " (verified)" : ""}`);
    });

  writer(program.command("promote"))
    .description(
      "make a finalized version current (what consumers serve), after verifying it; build-engine publishes without moving current unless --promote",
    )
    .argument("[agent]", "agent (or --agent)")
    .argument("[version]", "version to make current (or --version)")
    .option("--agent <name>", "agent, as the other verbs take it")
    .option("--version <name>", "version to make current")
    .option("--no-verify", "switch without verifying the version first")
    .option("--evidence <report>", EVIDENCE_FLAG_HELP.evidence)
    .option("--without-evidence", EVIDENCE_FLAG_HELP.withoutEvidence)
    .option("--evidence-max-age <age>", EVIDENCE_FLAG_HELP.evidenceMaxAge)
    .action(async (first: string | undefined, second: string | undefined, opts: CommonOptions & PromoteFlags) => {
      const { agent, version } = promoteTarget(first, second, opts);
      const evidence = evidenceChoiceOf(opts);
      const result = await promoteWithEvidence({ ...storeOptions(opts), agent, version, verify: opts.verify, evidence });
      const moved =
        result.change === "unchanged" ? `current is already ${version}` : `current ${result.previous ?? "(none)"} -> ${version}`;
      const basis =
        result.promotion === undefined
          ? ""
          : result.promotion.evidence === "report"
            ? ` on evidence sha256 ${result.promotion.report_sha256}`
            : result.promotion.evidence === "none"
              ? " without evidence (recorded)"
              : "";
      emit(opts, { ...result }, `${agent}: ${moved}${result.verification ? " (verified)" : ""}${basis}`);
    });

  writer(program.command("gc"))
    .description("remove crashed writers' staging folders and all but the newest versions (current and its previous one always stay)")
    .option("--agent <name>", "only this agent (default: every agent)")
    .option("--keep <n>", "versions to keep per agent (default 3)")
    .option("--dry-run", "report what would be removed, change nothing")
    .action(async (opts: CommonOptions & { agent?: string; keep?: string; dryRun?: boolean }) => {
      const keep = keepCount(opts.keep);
      const report = await gc({
        ...storeOptions(opts),
        ...(opts.agent === undefined ? {} : { agent: opts.agent }),
        ...(keep === undefined ? {} : { keep }),
        dryRun: opts.dryRun ?? false,
      });
      emit(opts, { ...report }, describeGc(report));
    });

  addExportTritonCommand(program, log);

  return program;
}

export async function runModelStoreCli(argv: readonly string[] = process.argv): Promise<void> {
  await runCli(createModelStoreProgram(), argv);
}
