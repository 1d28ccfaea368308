import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli-helpers.js";

const MINILM = join(ROOT, ".tools/models/all-MiniLM-L6-v2");
const AG_NEWS = join(ROOT, "../shared/data/ag_news/test.csv");

let dir: string;
let store: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-pipeline-"));
  store = join(dir, "store");
  work = join(dir, "work");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const buildArgs = () => [
  "--model", "store:memory",
  "--store-root", store,
  "--work-dir", work,
  "--precision", "int8",
  "--calibrate", AG_NEWS,
  "--calibration-samples", "64",
  "--held-out", "64",
  "--calibration-batch", "16",
  "--max-batch", "16",
  "--sequence-length", "128",
  "--marker",
  "--json",
];

describe("build-engine --model store:... --precision int8 --calibrate ... --marker (every stage real but TensorRT)", () => {
  it("imports MiniLM into the ModelStore", () => {
    const run = runCli("model-store", ["import-hf", "--agent", "memory", "--model", MINILM, "--model-id", "sentence-transformers/all-MiniLM-L6-v2", "--revision", "c9745ed1d9f207416be6d2e6f8de32d1f16199bf", "--root", store, "--json"]);
    expect(run.status, run.stderr).toBe(0);
  });

  it("without --marker stops at the build stage with TRT_UNAVAILABLE and keeps the stage results", () => {
    const args = buildArgs().filter((a) => a !== "--marker");
    const run = runCli("build-engine", args);
    expect(run.status, run.stderr).toBe(100);
    expect(run.stderr).toMatch(/stopping before the TensorRT build/);
    expect(run.stderr).toContain(join(work, "export"));
    expect(existsSync(join(store, "trt-embeddings"))).toBe(false);
  }, 600_000);

  it("publishes a verifiable marker version with ONNX, Q/DQ ONNX, calibration cache, metadata and provenance", async () => {
    const run = runCli("build-engine", buildArgs());
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as { kind: string; reused: boolean; agent: string; versionPath: string; engineName: string; stages: { export: { reused: boolean } } };
    expect(result).toMatchObject({ kind: "marker", reused: false, agent: "trt-embeddings" });
    // The stages done by the stopped run above are reused.
    expect(result.stages.export.reused).toBe(true);
    const files = (await readdir(result.versionPath)).sort();
    expect(files).toEqual(
      [
        "accuracy.json",
        "calibration.cache",
        "calibration.json",
        result.engineName,
        result.engineName.replace(/\.engine$/, ".json"),
        "export-report.json",
        "manifest.json",
        "model.onnx",
        "model.qdq.onnx",
        "provenance.json",
        "validation.json",
      ].sort(),
    );
    expect(result.engineName).toBe("embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.16.0-int8.engine");
    const cache = await readFile(join(result.versionPath, "calibration.cache"), "utf8");
    expect(cache.split("\n")[0]).toBe("TRT-101600-EntropyCalibration2");
    expect(cache.split("\n")[1]).toMatch(/^.+: [0-9a-f]{8}$/);

    const verify = runCli("verify-engine", [join(result.versionPath, result.engineName), "--json"]);
    expect(verify.status, verify.stdout).toBe(0);
    const report = verify.json() as { ok: boolean; kind: string; metadata: { onnx_sha256: string; calibration: { sample_count: number; cache_sha256: string }; accuracy: { output: string; samples: number }[] } };
    expect(report).toMatchObject({ ok: true, kind: "marker" });
    expect(report.metadata.calibration.sample_count).toBe(64);
    expect(report.metadata.accuracy.map((a) => a.output).sort()).toEqual(["last_hidden_state", "sentence_embedding"]);
    expect(report.metadata.accuracy[0]!.samples).toBe(64);
    expect(runCli("verify-engine", [join(result.versionPath, result.engineName), "--require-real"]).status).toBe(1);
    expect(runCli("model-store", ["verify", "--agent", "trt-embeddings", "--root", store]).status).toBe(0);

    const provenance = JSON.parse(await readFile(join(result.versionPath, "provenance.json"), "utf8")) as { model: { store_ref: string; revision: string }; onnx: { built_from: string }; toolchain: { python: Record<string, string> } };
    expect(provenance.model.store_ref).toMatch(/^store:memory@/);
    expect(provenance.onnx.built_from).toBe("model.qdq.onnx");
    expect(provenance.toolchain.python.torch).toMatch(/^2\.13\.0/);
  }, 600_000);

  it("reuses the identical build the second time", () => {
    const run = runCli("build-engine", buildArgs());
    expect(run.status, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ reused: true, kind: "marker" });
  }, 120_000);

  it("fails the accuracy gate when --min-cosine is not met, leaving no new version", async () => {
    const before = await readdir(join(store, "trt-embeddings", "versions"));
    const run = runCli("build-engine", [...buildArgs(), "--min-cosine", "0.99999"]);
    expect(run.status).toBe(93);
    expect(run.stderr).toMatch(/ACCURACY_GATE_FAILED/);
    expect(run.stderr).toMatch(/cosine mean/);
    expect(await readdir(join(store, "trt-embeddings", "versions"))).toEqual(before);
  }, 120_000);

  it("refuses weak typing for TensorRT 11", () => {
    const run = runCli("build-engine", [...buildArgs(), "--typing", "weak", "--trt-version", "11.1.0"]);
    expect(run.status).toBe(103);
    expect(run.stderr).toMatch(/TensorRT 11 removed weak typing/);
  });
});
