import { performance } from "node:perf_hooks";
import { readArticles, seededOrder, type Article } from "@trtforge/articles";
import { ForgeError, silentLogger, type Logger } from "@trtforge/core";
import { openServedModel, type ModelEvidence, type OpenedModel, type OutputTensor } from "@trtforge/runtime";
import { classifierFigures, type ArticleRef } from "./classifier-figures.js";
import { embeddingFigures } from "./embedding-figures.js";
import { COMPARE_REPORT_FORMAT, type CompareReport, type SideReport, type TimingFigures } from "./report.js";
import { openOptionsOf, type SideSpec } from "./sides.js";
import { mean, percentile } from "./stats.js";
import { checkThresholds, DEFAULT_THRESHOLDS, verdictOf, type OutputFigures, type Thresholds } from "./verdict.js";

export const DEFAULT_COUNT = 1000;
export const DEFAULT_BATCH = 32;

export interface CompareOptions {
  /** Store root; undefined for MODEL_STORE_ROOT. */
  storeRoot?: string;
  baseline: SideSpec;
  candidate: SideSpec;
  /** Articles (JSONL, AG News CSV, folder, text file). */
  articles: string;
  /** Articles to leave out (e.g. the calibration sample the candidate was tuned on), matched by text. */
  exclude?: string;
  /** How many articles, a seeded sample of those left (default 1000; fewer when fewer remain). */
  count?: number;
  seed?: number;
  /** Rows per batch (default 32, capped at both sides' maximum batch). */
  batchSize?: number;
  thresholds?: Partial<Thresholds>;
  logger?: Logger;
  onBatch?: (done: number, total: number) => void;
  /** The report's clock (tests). */
  now?: () => Date;
}

interface SelectedArticles {
  source: string;
  sha256: string;
  available: number;
  excluded: { source: string; count: number } | undefined;
  articles: Article[];
}

async function selectArticles(options: CompareOptions, count: number, seed: number): Promise<SelectedArticles> {
  const set = await readArticles(options.articles);
  let pool = set.articles;
  let excluded: SelectedArticles["excluded"];
  if (options.exclude !== undefined) {
    const leave = new Set((await readArticles(options.exclude)).articles.map((a) => a.text));
    const kept = pool.filter((a) => !leave.has(a.text));
    excluded = { source: options.exclude, count: pool.length - kept.length };
    pool = kept;
  }
  if (pool.length < 2) {
    throw new ForgeError("INVALID_OPTION", `only ${pool.length} article(s) of ${options.articles} are left to compare on`, {
      input: options.articles,
      fix: "give more articles (nearest-neighbour figures need at least 2), or exclude fewer",
    });
  }
  const order = seededOrder(pool.length, seed).slice(0, Math.min(count, pool.length));
  // As given (a path relative to where the command ran stays relative): the sha256 pins the bytes.
  return { source: options.articles, sha256: set.sha256, available: pool.length, excluded, articles: order.map((i) => pool[i]!) };
}

function rowsOf(tensor: Extract<OutputTensor, { datatype: "FP32" }>): Float32Array[] {
  const [rows, dim] = tensor.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => tensor.data.slice(r * dim, (r + 1) * dim));
}

/** The per-article outputs a comparison judges: every 2-D FP32 output ([rows, features]); token-level outputs are left out. */
function comparedOutputs(model: OpenedModel): string[] {
  if (model.kind === "classification") return ["probabilities"];
  return model.outputs.filter((o) => o.datatype === "FP32" && o.shape.length === 2).map((o) => o.name);
}

function assertComparable(a: OpenedModel, b: OpenedModel): string[] {
  const which = `${a.agent}@${a.version} and ${b.agent}@${b.version}`;
  const mismatch = (what: string, fix: string) =>
    new ForgeError("INVALID_OPTION", `${which} cannot be compared: ${what}`, { input: `${b.agent}@${b.version}`, fix });
  if (a.kind !== b.kind) throw mismatch(`one is ${a.kind}, the other ${b.kind}`, "compare two versions of the same model task");
  const outputs = comparedOutputs(a);
  const theirs = new Set(comparedOutputs(b));
  const missing = outputs.filter((o) => !theirs.has(o));
  if (outputs.length === 0 || missing.length > 0) {
    throw mismatch(
      outputs.length === 0 ? "the baseline has no per-article output" : `the candidate lacks ${missing.join(", ")}`,
      "compare versions of the same model and outputs",
    );
  }
  if (a.kind === "classification" && (a.labels ?? []).join("\u0000") !== (b.labels ?? []).join("\u0000")) {
    throw mismatch(
      `labels differ (${(a.labels ?? []).join(",")} vs ${(b.labels ?? []).join(",")})`,
      "compare classifiers with the same id2label",
    );
  }
  return outputs;
}

function timing(batchSeconds: readonly number[], rows: number): TimingFigures {
  const ms = batchSeconds.map((s) => s * 1000);
  const total = batchSeconds.reduce((a, b) => a + b, 0);
  return {
    batches: batchSeconds.length,
    batch_ms_mean: mean(ms),
    batch_ms_p50: percentile(ms, 50),
    batch_ms_p95: percentile(ms, 95),
    articles_per_second: total > 0 ? rows / total : Number.NaN,
  };
}

function sideReport(spec: SideSpec, model: OpenedModel): SideReport {
  const evidence: ModelEvidence = model.evidence;
  return {
    agent: model.agent,
    version: model.version,
    backend: spec.backend,
    onnx_variant: spec.onnxVariant,
    evidence,
    ...(model.fallbackDetail === undefined ? {} : { fallback_detail: model.fallbackDetail }),
  };
}

/**
 * Runs the baseline and the candidate on the same articles in the same batches (each side with its
 * own tokenizer, long articles truncated to its profile), alternating which side runs first so that
 * neither always meets a warmer cache, and judges the candidate against the thresholds. The report
 * is returned, never thrown: a failed verdict is a result (the CLI gives it its exit status).
 */
export async function compareVersions(options: CompareOptions): Promise<CompareReport> {
  const log = options.logger ?? silentLogger();
  const thresholds = checkThresholds({ ...DEFAULT_THRESHOLDS, ...options.thresholds });
  const count = options.count ?? DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 2) {
    throw new ForgeError("INVALID_OPTION", `count ${count} is not a whole number of at least 2`, {
      input: "--count",
      fix: `pass --count 2 or more (default ${DEFAULT_COUNT})`,
    });
  }
  const selected = await selectArticles(options, count, options.seed ?? 0);
  const root = options.storeRoot === undefined ? {} : { storeRoot: options.storeRoot };
  const open = (side: SideSpec) =>
    openServedModel(
      { ...root, agent: side.agent, ...(side.version === undefined ? {} : { version: side.version }) },
      {
        ...openOptionsOf(side),
        logger: log,
      },
    );
  const baseline = await open(options.baseline);
  let candidate: OpenedModel | undefined;
  try {
    candidate = await open(options.candidate);
    const outputs = assertComparable(baseline, candidate);
    const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH, baseline.profile.batch.max, candidate.profile.batch.max);
    const sides = [baseline, candidate] as const;
    const collected = sides.map(() => new Map<string, Float32Array[]>(outputs.map((o) => [o, []])));
    const seconds: [number[], number[]] = [[], []];
    const texts = selected.articles.map((a) => a.text);
    const batches = Math.ceil(texts.length / batchSize);
    for (let b = 0; b < batches; b++) {
      const slice = texts.slice(b * batchSize, (b + 1) * batchSize);
      const order = b % 2 === 0 ? [0, 1] : [1, 0];
      for (const s of order) {
        const model = sides[s]!;
        const tokens = model.tokenize(slice, { truncate: true });
        const started = performance.now();
        const result = await model.run(tokens);
        seconds[s as 0 | 1].push((performance.now() - started) / 1000);
        for (const name of outputs) {
          const tensor = result.find((t) => t.name === name);
          if (tensor === undefined || tensor.datatype !== "FP32")
            throw new Error(`${model.agent}@${model.version} returned no FP32 ${name}`);
          collected[s]!.get(name)!.push(...rowsOf(tensor));
        }
      }
      options.onBatch?.(b + 1, batches);
    }
    const refs: ArticleRef[] = selected.articles.map((a) => ({ id: a.origin, text: a.text }));
    const figures: OutputFigures[] = outputs.map((name) => {
      const a = collected[0]!.get(name)!;
      const c = collected[1]!.get(name)!;
      return baseline.kind === "classification"
        ? { output: "label", kind: "classification", figures: classifierFigures(baseline.labels ?? [], a, c, refs) }
        : { output: name, kind: "embedding", figures: embeddingFigures(a, c) };
    });
    const verdict = verdictOf(figures, thresholds);
    log.info({ passed: verdict.passed, failures: verdict.failures }, "comparison done");
    return {
      format: COMPARE_REPORT_FORMAT,
      created_at: (options.now?.() ?? new Date()).toISOString(),
      baseline: sideReport(options.baseline, baseline),
      candidate: sideReport(options.candidate, candidate),
      kind: baseline.kind,
      articles: {
        source: selected.source,
        sha256: selected.sha256,
        available: selected.available,
        count: selected.articles.length,
        seed: options.seed ?? 0,
        ...(selected.excluded === undefined ? {} : { excluded: selected.excluded }),
        ids: refs.map((r) => r.id),
      },
      outputs: figures,
      latency: {
        batch_size: batchSize,
        baseline: timing(seconds[0], texts.length),
        candidate: timing(seconds[1], texts.length),
      },
      thresholds,
      verdict,
    };
  } finally {
    await Promise.allSettled([baseline.dispose(), candidate?.dispose()]);
  }
}
