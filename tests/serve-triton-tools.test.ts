/**
 * Triton's own tools against a live serve-engine, unchanged: perf_analyzer (from the tritonclient
 * 2.41.0 wheel, installed by scripts/setup-perf-analyzer.sh) and every tritonclient.http call for
 * the extensions the server advertises.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArticles } from "@trtforge/articles";
import { agNewsCsv } from "./support/ag-news.js";
import { AGENT, publishMiniLm, ROOT, startServeEngine, type PublishedStore, type ServeProcess } from "./support/serve-engine.js";

const run = promisify(execFile);
let published: PublishedStore;
let server: ServeProcess;
let perfAnalyzer: string;
let work: string;

beforeAll(async () => {
  // Idempotent: returns at once when scripts/test.sh already installed it.
  perfAnalyzer = (await run("bash", [join(ROOT, "scripts/setup-perf-analyzer.sh")], { timeout: 600_000 })).stdout.trim();
  published = await publishMiniLm();
  server = await startServeEngine(published.store);
  work = await mkdtemp(join(tmpdir(), "trtforge-perf-analyzer-"));
}, 900_000);
afterAll(async () => {
  await server?.stop();
  await published?.cleanup();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

interface ModelStats {
  inference_stats: { success: { count: number }; fail: { count: number } };
}

async function stats(): Promise<ModelStats> {
  const body = (await (await fetch(`${server.url}/v2/models/${AGENT}/stats`)).json()) as { model_stats: ModelStats[] };
  return body.model_stats[0]!;
}

describe("perf_analyzer 2.41.0, unchanged, against serve-engine", () => {
  for (const format of ["binary", "json"] as const) {
    it(`text input, ${format} tensors, concurrency 1 to 8: every request succeeds`, async () => {
      // Articles that fit the profile's 128 tokens (300 characters of English are well under it):
      // perf_analyzer cannot send the "truncate" parameter over HTTP (--request-parameter is gRPC only).
      const articles = (await readArticles(agNewsCsv())).articles
        .filter((article) => article.text.length <= 300)
        .slice(0, 16)
        .map((article) => ({ text: [article.text] }));
      expect(articles).toHaveLength(16);
      const data = join(work, `data-${format}.json`);
      await writeFile(data, JSON.stringify({ data: articles }));
      const csv = join(work, `report-${format}.csv`);
      const before = await stats();
      const { stdout } = await run(
        perfAnalyzer,
        [
          "-m",
          AGENT,
          "-u",
          server.url.replace(/^http:\/\//, ""),
          "-i",
          "http",
          "--input-data",
          data,
          "--input-tensor-format",
          format,
          "--output-tensor-format",
          format,
          "--concurrency-range",
          "1:8",
          // Counted windows and any spread accepted: this checks correctness on a shared machine,
          // not speed (benchmarks/perf-analyzer.mjs measures).
          "--measurement-mode",
          "count_windows",
          "--measurement-request-count",
          "16",
          "-s",
          "1000",
          "-f",
          csv,
        ],
        { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const rows = (await readFile(csv, "utf8")).trim().split("\n");
      const header = rows[0]!.split(",");
      const concurrency = rows.slice(1).map((row) => Number(row.split(",")[header.indexOf("Concurrency")]));
      expect(concurrency.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      for (const row of rows.slice(1)) expect(Number(row.split(",")[header.indexOf("Inferences/Second")])).toBeGreaterThan(0);
      expect(stdout).not.toMatch(/error|failed/i);
      // perf_analyzer read the server's statistics (its "Server:" sections), and they saw no failure.
      expect(stdout).toMatch(/Server:\s+Inference count: [1-9]/);
      const after = await stats();
      expect(after.inference_stats.fail.count).toBe(before.inference_stats.fail.count);
      expect(after.inference_stats.success.count - before.inference_stats.success.count).toBeGreaterThanOrEqual(8 * 16);
    }, 600_000);
  }
});

describe("tritonclient.http, every call the server advertises", () => {
  it("config, statistics, repository index, load/unload, classification (refused for embeddings)", async () => {
    const { stdout } = await run(
      join(ROOT, ".venv/bin/python"),
      [join(ROOT, "tests/serve/tritonclient_extensions.py"), "--url", server.url.replace(/^http:\/\//, ""), "--model", AGENT],
      { timeout: 120_000 },
    );
    // The checker's summary, read field by field below.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const summary = JSON.parse(stdout) as Record<string, any>;
    expect(summary.config).toEqual({
      max_batch_size: 16,
      inputs: ["attention_mask", "input_ids", "text", "token_type_ids"],
      text_type: "TYPE_STRING",
      dynamic_batching: true,
    });
    expect(summary.statistics.version).toBe("1");
    expect(summary.statistics.success).toBeGreaterThanOrEqual(1);
    // The index names the version as the statistics do (Triton's integer); the store name is in the metadata.
    expect(summary.repository.index).toEqual([{ name: AGENT, version: "1", state: "READY", reason: "" }]);
    expect(summary.statistics.batch_sizes).toContain(1);
    expect(summary.repository.refused).toEqual({ load_other: "400", unload: "400" });
    expect(summary.classification.status).toBe("400");
  }, 180_000);
});
