import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArticles } from "@trtforge/articles";
import { MINILM, ROOT, importMiniLm, runCli, type CliRun } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";
import { workDirSharingExports } from "./support/shared-work.js";
import { makeTinyClassifier } from "./support/tiny-classifier.js";

/**
 * compare-engines and promotion with evidence on real published versions: MiniLM fp32 and int8 and
 * a small news classifier fp32 and int8, each built by build-engine (marker engines, so every side
 * runs on ONNX Runtime), and a deliberately damaged int8 candidate (its Q/DQ scales ×4).
 */
const AG_NEWS = agNewsCsv();
const CALIBRATION_SAMPLE = join(ROOT, "conf/samples/ag_news_1000.jsonl");
const STORE_KEYS = ["created_at", "files", "file_count", "total_bytes", "publisher", "staging", "promotions"];

let dir: string;
let store: string;
let out: string;
let work: string;
const embed = { agent: "trt-embeddings", fp32: "", int8: "", damaged: "damaged-int8" };
const news = { agent: "trt-news", fp32: "", int8: "" };

function build(args: string[]): { version: string; agent: string } {
  const run = runCli("build-engine", [
    ...args,
    "--calibrate",
    AG_NEWS,
    "--cpu-serving",
    "off",
    "--marker",
    "--work-dir",
    work,
    "--store-root",
    store,
    "--json",
  ]);
  if (run.status !== 0) throw new Error(`build-engine exited ${run.status}:\n${run.stderr}`);
  return run.json() as { version: string; agent: string };
}

/** A copy of `version` whose Q/DQ ONNX has every quantization scale multiplied by 4, published as `name`. */
async function publishDamaged(agent: string, version: string, name: string): Promise<void> {
  const copy = join(dir, `copy-${name}`);
  await cp(join(store, agent, "versions", version), copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as { metadata: Record<string, unknown> };
  await rm(join(copy, "manifest.json"));
  const script = `
import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
scales = {n.input[1] for n in m.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")}
done = 0
for init in m.graph.initializer:
    if init.name in scales:
        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(4), init.name)); done += 1
assert done > 0, "no Q/DQ scale found"
onnx.save(m, sys.argv[1])
`;
  const edited = spawnSync(join(ROOT, ".venv/bin/python"), ["-c", script, join(copy, "model.qdq.onnx")], { encoding: "utf8" });
  if (edited.status !== 0) throw new Error(edited.stderr);
  const metadata = Object.fromEntries(Object.entries(manifest.metadata).filter(([key]) => !STORE_KEYS.includes(key)));
  const metadataFile = join(dir, `${name}.json`);
  await writeFile(metadataFile, JSON.stringify(metadata));
  const run = runCli("model-store", [
    "publish",
    copy,
    "--agent",
    agent,
    "--root",
    store,
    "--version",
    name,
    "--metadata",
    `@${metadataFile}`,
    "--no-set-current",
    "--json",
  ]);
  if (run.status !== 0) throw new Error(`model-store publish exited ${run.status}:\n${run.stderr}`);
}

/**
 * The MiniLM build every version here comes from (the profile and article counts), before its precision.
 * The profile is the one the other suites export MiniLM at, so the shared export is reused. The W8A8
 * plan's sensitivity probes are left out (--int8-float-share 0): the plan is tested on its own
 * (packages/calibration/test/w8a8-plan.test.ts, tests/pipeline-marker.test.ts); here int8 is just a
 * candidate, and without the plan it lands below build-engine's gate (cosine ~0.985 < 0.99), whose
 * own tests are elsewhere: --accept-accuracy publishes it.
 */
const MINILM_BUILD = [
  "--model",
  "store:memory",
  "--int8-float-share",
  "0",
  "--accept-accuracy",
  "--max-batch",
  "16",
  "--opt-batch",
  "8",
  "--sequence-length",
  "128",
  "--calibration-samples",
  "64",
  "--held-out",
  "16",
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-compare-"));
  store = join(dir, "store");
  out = join(dir, "reports");
  await mkdir(store);
  work = await workDirSharingExports(join(dir, "work"));
  const imported = importMiniLm(store);
  if (imported.status !== 0) throw new Error(imported.stderr);
  embed.fp32 = build([...MINILM_BUILD, "--precision", "fp32"]).version;
  embed.int8 = build([...MINILM_BUILD, "--precision", "int8"]).version;
  await publishDamaged(embed.agent, embed.int8, embed.damaged);
  const tiny = join(dir, "tiny");
  makeTinyClassifier(tiny);
  const classifier = ["--model", tiny, "--model-id", "example/tiny-news", "--revision", "0".repeat(40), "--task-name", "news"];
  const shape = [
    "--max-batch",
    "16",
    "--opt-batch",
    "8",
    "--sequence-length",
    "64",
    "--opt-sequence-length",
    "32",
    "--calibration-samples",
    "32",
    "--held-out",
    "16",
  ];
  news.fp32 = build([...classifier, ...shape, "--precision", "fp32"]).version;
  news.int8 = build([...classifier, ...shape, "--precision", "int8"]).version;
}, 1_500_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

function compare(baseline: string, candidate: string, extra: string[] = []): CliRun {
  return runCli("compare-engines", [baseline, candidate, "--articles", AG_NEWS, "--store-root", store, "--out", out, "--json", ...extra]);
}

interface Report {
  ok: boolean;
  report: string;
  markdown: string;
  baseline: { version: string; evidence: { artifact: string; backend: string } };
  candidate: { version: string; evidence: { artifact: string; backend: string } };
  articles: { ids: string[]; count: number; excluded?: { count: number } };
  outputs: { output: string; kind: string; figures: Record<string, number> }[];
  latency: { batch_size: number; baseline: { batches: number; articles_per_second: number }; candidate: { batches: number } };
  verdict: { passed: boolean; failures: string[] };
}

/** The figures computed again from the report's article ids, by Python's onnxruntime and Hugging Face's tokenizer. */
async function independentFigures(
  report: Report,
  agent: string,
  tokenizer: string,
  output: string,
  kind: string,
): Promise<Record<string, number>> {
  const byId = new Map((await readArticles(AG_NEWS)).articles.map((a) => [a.origin, a.text]));
  const versionDir = (v: string) => join(store, agent, "versions", v);
  const job = {
    texts: report.articles.ids.map((id) => byId.get(id)!),
    baseline: join(versionDir(report.baseline.version), report.baseline.evidence.artifact),
    candidate: join(versionDir(report.candidate.version), report.candidate.evidence.artifact),
    tokenizer,
    output,
    kind,
    batch: report.latency.batch_size,
    max_len: kind === "embedding" ? 128 : 64,
  };
  const run = spawnSync(join(ROOT, ".venv/bin/python"), [join(ROOT, "tests/support/compare_figures.py")], {
    input: JSON.stringify(job),
    encoding: "utf8",
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
    timeout: 600_000,
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as Record<string, number>;
}

describe("compare-engines on real published versions", () => {
  it("int8 against fp32 MiniLM on held-out articles: the figures agree with an independent computation", async () => {
    const run = compare(`${embed.agent}@${embed.fp32}`, `${embed.agent}@${embed.int8}`, [
      "--exclude",
      CALIBRATION_SAMPLE,
      "--count",
      "150",
    ]);
    const report = run.json() as unknown as Report;
    expect([0, 96]).toContain(run.status);
    expect(run.status === 0).toBe(report.verdict.passed);
    expect(report.articles.count).toBe(150);
    expect(report.articles.excluded!.count).toBeGreaterThan(900);
    const sample = new Set((await readArticles(CALIBRATION_SAMPLE)).articles.map((a) => a.text));
    const byId = new Map((await readArticles(AG_NEWS)).articles.map((a) => [a.origin, a.text]));
    expect(report.articles.ids.filter((id) => sample.has(byId.get(id)!))).toEqual([]);
    expect(report.baseline.evidence).toMatchObject({ backend: "onnxruntime", artifact: "model.onnx" });
    expect(report.candidate.evidence).toMatchObject({ backend: "onnxruntime", artifact: "model.qdq.onnx" });
    const figures = report.outputs.find((o) => o.output === "sentence_embedding")!;
    expect(figures.kind).toBe("embedding");
    const expected = await independentFigures(report, embed.agent, MINILM, "sentence_embedding", "embedding");
    expect(figures.figures.cosine_mean).toBeCloseTo(expected.cosine_mean!, 4);
    expect(figures.figures.cosine_min).toBeCloseTo(expected.cosine_min!, 3);
    expect(Math.abs(figures.figures.max_abs_diff! - expected.max_abs_diff!)).toBeLessThan(2e-3);
    expect(Math.abs(figures.figures.neighbour_overlap_mean! - expected.neighbour_overlap_mean!)).toBeLessThan(0.01);
    // A real int8 build is close to fp32 but not equal to it: the figures are measured, not defaulted.
    expect(figures.figures.cosine_mean).toBeGreaterThan(0.95);
    expect(figures.figures.cosine_mean).toBeLessThan(1);
    expect(report.latency.baseline.batches).toBe(Math.ceil(150 / report.latency.batch_size));
    expect(report.latency.baseline.articles_per_second).toBeGreaterThan(0);
    const markdown = await readFile(report.markdown, "utf8");
    expect(markdown).toContain(`| sentence_embedding | cosine mean | ${figures.figures.cosine_mean!.toFixed(5)} |`);
    expect(JSON.parse(await readFile(report.report, "utf8"))).toMatchObject({ verdict: report.verdict, articles: { count: 150 } });
  }, 900_000);

  it("a candidate with its Q/DQ scales multiplied by 4 fails the verdict with exit 96, and the report is still written", async () => {
    const run = compare(`${embed.agent}@${embed.fp32}`, `${embed.agent}@${embed.damaged}`, [
      "--exclude",
      CALIBRATION_SAMPLE,
      "--count",
      "64",
    ]);
    expect(run.status, run.stderr).toBe(96);
    expect(run.stderr).toContain("error[COMPARE_CANDIDATE_WORSE]: sentence_embedding: cosine mean");
    const report = run.json() as unknown as Report;
    expect(report.ok).toBe(false);
    expect(report.verdict.failures[0]).toMatch(/< --min-cosine 0\.99$/);
    expect(JSON.parse(await readFile(report.report, "utf8"))).toMatchObject({ verdict: { passed: false } });
  }, 600_000);

  it("the same version on two ONNX forms (fp32 against its own Q/DQ int8)", () => {
    const ref = `${embed.agent}@${embed.int8}`;
    const run = compare(ref, ref, [
      "--backend-a",
      "onnxruntime",
      "--onnx-variant-a",
      "fp32",
      "--backend-b",
      "onnxruntime",
      "--onnx-variant-b",
      "int8",
      "--count",
      "32",
    ]);
    expect([0, 96]).toContain(run.status);
    const report = run.json() as unknown as Report;
    expect(report.baseline.evidence.artifact).toBe("model.onnx");
    expect(report.candidate.evidence.artifact).toBe("model.qdq.onnx");
    expect(report.report).toContain(`${embed.int8}.onnxruntime-model-vs-${embed.int8}.onnxruntime-model.qdq`);
  }, 600_000);

  it("a classifier's int8 against its fp32: agreement, confusion table and confidence deltas agree with an independent computation", async () => {
    const run = compare(`${news.agent}@${news.fp32}`, `${news.agent}@${news.int8}`, [
      "--exclude",
      CALIBRATION_SAMPLE,
      "--count",
      "200",
      "--min-agreement",
      "0",
      "--max-confidence-delta",
      "1",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const report = run.json() as unknown as Report;
    const label = report.outputs.find((o) => o.kind === "classification")! as unknown as {
      figures: {
        agreement: number;
        flips: number;
        confusion: Record<string, Record<string, number>>;
        confidence_delta_mean: number;
        confidence_delta_max: number;
        flipped: { id: string; excerpt: string }[];
      };
    };
    const expected = await independentFigures(report, news.agent, join(dir, "tiny"), "logits", "classification");
    expect(label.figures.flips).toBe(expected.flips);
    expect(label.figures.agreement).toBeCloseTo(expected.agreement!, 6);
    expect(label.figures.confidence_delta_mean).toBeCloseTo(expected.confidence_delta_mean!, 4);
    expect(label.figures.confidence_delta_max).toBeCloseTo(expected.confidence_delta_max!, 3);
    const cells = Object.values(label.figures.confusion).flatMap((row) => Object.values(row));
    expect(cells.reduce((a, b) => a + b, 0)).toBe(200);
    const diagonal = Object.entries(label.figures.confusion).reduce((sum, [a, row]) => sum + row[a]!, 0);
    expect(diagonal).toBe(200 - label.figures.flips);
    expect(label.figures.flipped.length).toBe(Math.min(label.figures.flips, 50));
    for (const flip of label.figures.flipped) expect(flip.id).toMatch(/test\.csv:\d+$/);
  }, 900_000);

  it("refuses a version pair it cannot compare, and bad flags, before running anything", () => {
    const kinds = compare(`${embed.agent}@${embed.fp32}`, `${news.agent}@${news.fp32}`, ["--count", "8"]);
    expect(kinds.status).toBe(2);
    expect(kinds.stderr).toContain("cannot be compared: one is embedding, the other classification");
    const backend = compare(`${embed.agent}@${embed.fp32}`, `${embed.agent}@${embed.int8}`, ["--backend-b", "tensorflow"]);
    expect(backend.status).toBe(2);
    expect(backend.stderr).toContain('--backend-b "tensorflow" is not one of auto, tensorrt, onnxruntime, onnxruntime-cuda');
    const threshold = compare(`${embed.agent}@${embed.fp32}`, `${embed.agent}@${embed.int8}`, ["--min-cosine", "1.5"]);
    expect(threshold.status).toBe(2);
    const trt = compare(`${embed.agent}@${embed.fp32}`, `${embed.agent}@${embed.int8}`, ["--backend-b", "tensorrt", "--count", "8"]);
    expect(trt.status).toBe(110); // TENSORRT_REQUIRED: a marker never passes for an engine
  }, 300_000);
});

describe("promotion with a compare report as evidence", () => {
  let passed: string;
  let failed: string;
  it("refuses without evidence, with a mismatched, a failed or a stale report; promotes on a passed one and records it", async () => {
    // fp32 was the first build: current.
    const fp32Current = `${embed.agent}@${embed.fp32}`;
    const good = compare(fp32Current, `${embed.agent}@${embed.int8}`, ["--count", "48", "--min-cosine", "0.9"]);
    expect(good.status, good.stderr).toBe(0);
    passed = (good.json() as unknown as Report).report;
    const bad = compare(fp32Current, `${embed.agent}@${embed.damaged}`, ["--count", "48"]);
    expect(bad.status).toBe(96);
    failed = (bad.json() as unknown as Report).report;

    const promote = (version: string, extra: string[]) =>
      runCli("model-store", ["promote", embed.agent, version, "--root", store, "--json", ...extra]);
    const none = promote(embed.int8, []);
    expect(none.status).toBe(97);
    expect(none.stderr).toContain(
      `error[PROMOTION_EVIDENCE_REQUIRED]: promoting ${embed.agent}@${embed.int8} over the current ${embed.fp32} needs evidence`,
    );

    const mismatched = promote(embed.damaged, ["--evidence", passed]);
    expect(mismatched.status).toBe(98);
    expect(mismatched.stderr).toContain(
      `the report compares ${embed.agent}@${embed.fp32} → ${embed.agent}@${embed.int8}, but promoting needs ${embed.agent}@${embed.fp32} → ${embed.agent}@${embed.damaged}`,
    );

    const notReport = promote(embed.int8, ["--evidence", failed.replace(/\.json$/, ".md")]);
    expect(notReport.status).toBe(98);

    const failing = promote(embed.damaged, ["--evidence", failed]);
    expect(failing.status).toBe(119);
    expect(failing.stderr).toContain("error[PROMOTION_EVIDENCE_FAILED]: the report's verdict is failed");

    const old = JSON.parse(await readFile(passed, "utf8")) as { created_at: string };
    old.created_at = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString();
    const stalePath = join(dir, "stale.json");
    await writeFile(stalePath, JSON.stringify(old));
    const stale = promote(embed.int8, ["--evidence", stalePath]);
    expect(stale.status).toBe(99);
    expect(stale.stderr).toMatch(/error\[PROMOTION_EVIDENCE_STALE\]: the report \(.*\) is 192\.0 h old, more than the allowed 168\.0 h/);
    // An operator may allow an older report, explicitly.
    const allowed = promote(embed.int8, ["--evidence", stalePath, "--evidence-max-age", "9d", "--no-verify"]);
    expect(allowed.status, allowed.stderr).toBe(0);
    const back = promote(embed.fp32, ["--without-evidence", "--no-verify"]);
    expect(back.status, back.stderr).toBe(0);

    // Nothing moved on a refusal: current went fp32 → int8 (allowed) → fp32 (without evidence) only.
    const ok = promote(embed.int8, ["--evidence", passed]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ change: "promoted", previous: embed.fp32, current: embed.int8, promotion: { evidence: "report" } });
    const manifest = JSON.parse(await readFile(join(store, embed.agent, "versions", embed.int8, "manifest.json"), "utf8")) as {
      metadata: { promotions: Record<string, unknown>[] };
    };
    const sha = createHash("sha256")
      .update(await readFile(passed))
      .digest("hex");
    expect(manifest.metadata.promotions.map((p) => p.evidence)).toEqual(["report", "report"]);
    expect(manifest.metadata.promotions.at(-1)).toMatchObject({
      from: embed.fp32,
      report_sha256: sha,
      report_path: passed,
      by: expect.stringContaining("@"),
    });
    expect(Date.now() - Date.parse(manifest.metadata.promotions.at(-1)!.at as string)).toBeLessThan(3_600_000);
    const fp32Manifest = JSON.parse(await readFile(join(store, embed.agent, "versions", embed.fp32, "manifest.json"), "utf8")) as {
      metadata: { promotions: Record<string, unknown>[] };
    };
    expect(fp32Manifest.metadata.promotions).toEqual([expect.objectContaining({ evidence: "none", from: embed.int8 })]);

    // The manifest's new key leaves the version verifiable, and rollback stays the safety net.
    const verify = runCli("model-store", ["verify", "--agent", embed.agent, "--version", embed.int8, "--root", store, "--json"]);
    expect(verify.status, verify.stderr).toBe(0);
    const rollback = runCli("model-store", ["rollback", "--agent", embed.agent, "--root", store, "--json"]);
    expect(rollback.status, rollback.stderr).toBe(0);
    expect(rollback.json()).toMatchObject({ from: embed.int8, to: embed.fp32 });
  }, 900_000);

  it("flags that contradict each other are usage errors", () => {
    const both = runCli("model-store", ["promote", embed.agent, embed.int8, "--root", store, "--evidence", passed, "--without-evidence"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--evidence and --without-evidence contradict each other");
    const age = runCli("model-store", [
      "promote",
      embed.agent,
      embed.int8,
      "--root",
      store,
      "--evidence",
      passed,
      "--evidence-max-age",
      "soon",
    ]);
    expect(age.status).toBe(2);
    const alone = runCli("build-engine", ["--model", "store:memory", "--without-evidence", "--store-root", store]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain("--evidence and --without-evidence apply to --promote");
  });

  it("build-engine --promote over an existing current refuses without evidence before calibrating, and promotes with --without-evidence", () => {
    const args = [
      ...MINILM_BUILD,
      "--precision",
      "int8",
      "--calibrate",
      AG_NEWS,
      "--cpu-serving",
      "off",
      "--marker",
      "--work-dir",
      work,
      "--store-root",
      store,
      "--json",
      "--promote",
    ];
    const refused = runCli("build-engine", args);
    expect(refused.status).toBe(97);
    expect(refused.stderr).toContain(
      `error[PROMOTION_EVIDENCE_REQUIRED]: --promote over the current ${embed.agent}@${embed.fp32} needs evidence`,
    );
    const promoted = runCli("build-engine", [...args, "--without-evidence"]);
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(promoted.json()).toMatchObject({ version: embed.int8, reused: true, current: { change: "promoted", version: embed.int8 } });
  }, 600_000);
});
