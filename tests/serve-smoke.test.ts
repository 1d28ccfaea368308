import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agNewsCsv } from "./support/ag-news.js";
import { AGENT, publishMiniLm, ROOT, startServeEngine, type PublishedStore, type ServeProcess } from "./support/serve-engine.js";

/**
 * The end-to-end smoke that scripts/test.sh --lts runs on the LTS Node (vitest.config.ts, E2E_SMOKE):
 * build-engine publishes, serve-engine serves it with its workers, the real tritonclient gets the
 * embeddings onnxruntime gives on the published model.onnx. tests/serve-engine.test.ts goes further.
 */
let published: PublishedStore;
let server: ServeProcess;
beforeAll(async () => {
  published = await publishMiniLm();
  server = await startServeEngine(published.store, ["--cpu-workers", "2"]);
}, 900_000);
afterAll(async () => {
  await server?.stop();
  await published?.cleanup();
});

describe(`serve-engine on Node ${process.versions.node}: build-engine's store served to the real tritonclient`, () => {
  it("answers health and metadata, and embeddings equal onnxruntime on model.onnx for real articles", async () => {
    const { stdout } = await promisify(execFile)(
      join(ROOT, ".venv/bin/python"),
      [
        join(ROOT, "tests/serve/tritonclient_check.py"),
        "--url",
        server.url.replace(/^http:\/\//, ""),
        "--model",
        AGENT,
        "--version-dir",
        published.versionPath,
        "--articles",
        agNewsCsv(),
      ],
      { timeout: 180_000 },
    );
    const summary = JSON.parse(stdout) as {
      articles: number;
      binary: { cosine_min: number };
      json: { max_abs_diff: number };
      evidence: Record<string, unknown>;
    };
    expect(summary.articles).toBe(8);
    expect(summary.binary.cosine_min).toBeGreaterThanOrEqual(0.9999);
    expect(summary.json.max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(summary.evidence).toMatchObject({ agent: AGENT, version: published.version, backend: "onnxruntime" });
    expect(server.workers).toHaveLength(2);
  }, 240_000);
});
