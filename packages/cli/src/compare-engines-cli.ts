import { Command } from "commander";
import { ERROR_CODES, ForgeError, isForgeError, printableLines } from "@trtforge/core";
import {
  COMPARE_BACKENDS,
  compareVersions,
  DEFAULT_BATCH,
  DEFAULT_COUNT,
  DEFAULT_THRESHOLDS,
  parseBackend,
  parseOnnxVariant,
  parseVersionRef,
  writeReport,
  type SideSpec,
} from "@trtforge/compare";
import { parseInteger } from "./parse-options.js";
import { storeRootFromFlag } from "./store-root-flag.js";
import { cliLogger, runCli } from "./run.js";
import { CLI_VERSION } from "./version.js";

interface CompareFlags {
  articles: string;
  exclude?: string;
  count?: string;
  seed?: string;
  batch?: string;
  backendA: string;
  backendB: string;
  onnxVariantA: string;
  onnxVariantB: string;
  minCosine?: string;
  minAgreement?: string;
  maxConfidenceDelta?: string;
  storeRoot?: string;
  out: string;
  json?: boolean;
}

/** A value typed on the command line that the library refuses is the user's misuse of a flag: USAGE. */
function asUsage(err: unknown): unknown {
  if (isForgeError(err) && err.code === "INVALID_OPTION") {
    return new ForgeError("USAGE", err.message, { ...(err.input ? { input: err.input } : {}), ...(err.fix ? { fix: err.fix } : {}) });
  }
  return err;
}

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw asUsage(err);
  }
}

function fraction(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ForgeError("USAGE", `${flag} "${text}" is not a number in [0, 1]`, { input: flag, fix: `pass ${flag} between 0 and 1` });
  }
  return value;
}

function side(ref: string, input: string, backend: string, variant: string, flag: "a" | "b"): SideSpec {
  return usage(() => ({
    ...parseVersionRef(ref, input),
    backend: parseBackend(backend, `--backend-${flag}`),
    onnxVariant: parseOnnxVariant(variant, `--onnx-variant-${flag}`),
  }));
}

export function createCompareEnginesProgram(): Command {
  const d = DEFAULT_THRESHOLDS;
  return new Command("compare-engines")
    .description(
      "Compare a candidate store version (B) with a baseline (A, e.g. the current one) on the same articles: figures per output, latency, and a verdict (exit 96 when the candidate is worse)",
    )
    .version(CLI_VERSION)
    .argument("<baseline>", "<agent>@<version>, or <agent> for its current version")
    .argument("<candidate>", "<agent>@<version> (the same version as the baseline compares two backends)")
    .requiredOption(
      "--articles <file|dir>",
      "articles to compare on: JSONL (text field), AG News CSV, a folder of .txt/.jsonl, a text file",
    )
    .option("--exclude <file|dir>", "leave out these articles (matched by text), e.g. the calibration sample: held-out articles only")
    .option("--count <n>", `articles to compare on, a seeded sample (default ${DEFAULT_COUNT})`)
    .option("--seed <n>", "seed of the sample (default 0)")
    .option("--batch <n>", `rows per batch (default ${DEFAULT_BATCH}, at most both sides' maximum batch)`)
    .option("--backend-a <backend>", `baseline's backend: ${COMPARE_BACKENDS.join("|")} (auto: as serve-engine would)`, "auto")
    .option("--backend-b <backend>", `candidate's backend: ${COMPARE_BACKENDS.join("|")}`, "auto")
    .option("--onnx-variant-a <variant>", "baseline's ONNX on ONNX Runtime: auto|fp32|int8|cpu|gpu", "auto")
    .option("--onnx-variant-b <variant>", "candidate's ONNX on ONNX Runtime: auto|fp32|int8|cpu|gpu", "auto")
    .option("--min-cosine <x>", `embeddings: mean cosine to the baseline at least (default ${d.minCosine})`)
    .option("--min-agreement <x>", `classifiers: label agreement at least (default ${d.minAgreement})`)
    .option("--max-confidence-delta <x>", `classifiers: p99 |Δ confidence| of the winning class at most (default ${d.maxConfidenceDelta})`)
    .option("--store-root <dir>", "ModelStore root (default $MODEL_STORE_ROOT)")
    .option("--out <dir>", "where the JSON report and Markdown table go", "logs/benchmarks")
    .option("--json", "print the report as JSON on stdout")
    .action(async (baselineRef: string, candidateRef: string, opts: CompareFlags) => {
      const baseline = side(baselineRef, "<baseline>", opts.backendA, opts.onnxVariantA, "a");
      const candidate = side(candidateRef, "<candidate>", opts.backendB, opts.onnxVariantB, "b");
      const thresholds = {
        ...(fraction(opts.minCosine, "--min-cosine") === undefined ? {} : { minCosine: fraction(opts.minCosine, "--min-cosine")! }),
        ...(fraction(opts.minAgreement, "--min-agreement") === undefined
          ? {}
          : { minAgreement: fraction(opts.minAgreement, "--min-agreement")! }),
        ...(fraction(opts.maxConfidenceDelta, "--max-confidence-delta") === undefined
          ? {}
          : { maxConfidenceDelta: fraction(opts.maxConfidenceDelta, "--max-confidence-delta")! }),
      };
      const storeRoot = storeRootFromFlag(opts.storeRoot, "--store-root");
      const report = await compareVersions({
        storeRoot,
        baseline,
        candidate,
        articles: opts.articles,
        ...(opts.exclude === undefined ? {} : { exclude: opts.exclude }),
        ...(opts.count === undefined ? {} : { count: parseInteger(opts.count, "--count") }),
        ...(opts.seed === undefined ? {} : { seed: parseInteger(opts.seed, "--seed") }),
        ...(opts.batch === undefined ? {} : { batchSize: parseInteger(opts.batch, "--batch") }),
        thresholds,
        logger: cliLogger("compare-engines"),
      }).catch((err: unknown) => {
        // Versions that cannot be compared, or too few articles: what the command line named.
        throw asUsage(err);
      });
      const written = await writeReport(report, opts.out);
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify({ ok: report.verdict.passed, report: written.json, markdown: written.markdown, ...report })}\n`,
        );
      else {
        process.stdout.write(
          `${report.verdict.passed ? "passed" : "FAILED"}: ${candidate.agent}@${report.candidate.version} against ${report.baseline.agent}@${report.baseline.version}\n`,
        );
        process.stdout.write(`report: ${written.json}\ntable:  ${written.markdown}\n`);
      }
      if (!report.verdict.passed) {
        process.stderr.write(`error[COMPARE_CANDIDATE_WORSE]: ${printableLines(report.verdict.failures.join("; "))}\n`);
        process.stderr.write(`  fix: keep the baseline; the figures are in ${written.markdown}\n`);
        process.exitCode = ERROR_CODES.COMPARE_CANDIDATE_WORSE;
      }
    });
}

export async function runCompareEnginesCli(argv: readonly string[] = process.argv): Promise<void> {
  await runCli(createCompareEnginesProgram(), argv);
}
