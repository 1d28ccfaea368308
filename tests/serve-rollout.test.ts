import { readdirSync, readFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { getPriority } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArticles } from "@trtforge/articles";
import { agNewsCsv } from "./support/ag-news.js";
import { AGENT, loadLoop, publishMiniLm, republish, startServeEngine, waitFor, type PublishedStore } from "./support/serve-engine.js";

// Response bodies are read field by field with expect(); their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonObject = Record<string, any>;

let published: PublishedStore;
let texts: string[];

beforeAll(async () => {
  published = await publishMiniLm();
  // Two more versions of the same model: a healthy candidate, and one damaged after publishing.
  await republish(published.dir, published.store, published.versionPath, "cand");
  const broken = await republish(published.dir, published.store, published.versionPath, "broken");
  await appendFile(join(broken.path, "tokenizer", "vocab.txt"), "damaged\n");
  texts = (await readArticles(agNewsCsv())).articles.slice(0, 40).map((article) => article.text);
}, 900_000);
afterAll(async () => published?.cleanup());

/** The version build-engine published, pinned: current moved to the republished copies. */
const pinned = (): string => `${AGENT}@${published.version}`;

async function infer(url: string, text: string, id: string): Promise<{ status: number; json: JsonObject }> {
  const response = await fetch(`${url}/v2/models/${AGENT}/infer`, {
    method: "POST",
    body: JSON.stringify({
      id,
      parameters: { truncate: true },
      inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [text] }],
      outputs: [{ name: "sentence_embedding" }],
    }),
  });
  return { status: response.status, json: (await response.json()) as JsonObject };
}

const inferOne = (url: string) => infer(url, texts[0]!, "one");

/** The value of one series in a Prometheus text scrape (0 when absent). */
function series(scrape: string, name: string, labels: Record<string, string>): number {
  const line = scrape
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

/**
 * The nice value of every thread of a process, from /proc/<pid>/task/<tid>/stat (field 19; Linux
 * keeps nice per thread). The comm field may hold spaces: fields are counted after its ")".
 */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

describe("serve-engine with a canary or a shadow (real workers, MiniLM on the ONNX Runtime fallback)", () => {
  it("--canary sends requests by id to the candidate version, which each response names; the same id keeps its side", async () => {
    const server = await startServeEngine(published.store, ["--canary", `${AGENT}@cand=50`], pinned());
    try {
      const first = await Promise.all(texts.map((text, i) => infer(server.url, text, `article-${i}`)));
      const again = await Promise.all(texts.map((text, i) => infer(server.url, text, `article-${i}`)));
      expect([...first, ...again].every((a) => a.status === 200)).toBe(true);
      const versions = first.map((a) => a.json.model_version as string);
      expect(new Set(versions)).toEqual(new Set([published.version, "cand"]));
      expect(again.map((a) => a.json.model_version)).toEqual(versions);
      for (const { json } of first) {
        expect(json.parameters).toMatchObject({
          served_version: json.model_version,
          served_role: json.model_version === "cand" ? "canary" : "primary",
        });
      }
      // The canary's version URLs answer as infer on them does (statistics too, once it has served).
      for (const path of ["ready", "config", "stats", ""]) {
        const response = await fetch(`${server.url}/v2/models/${AGENT}/versions/cand${path === "" ? "" : `/${path}`}`);
        expect(response.status, path).toBe(200);
      }
      const scrape = await (await fetch(server.metricsUrl)).text();
      expect(series(scrape, "trtforge_rollout_requests_total", { version: "cand", role: "canary" })).toBe(
        2 * versions.filter((v) => v === "cand").length,
      );
    } finally {
      await server.stop();
    }
  }, 300_000);

  it("--shadow compares every answered request (cosine 1 for the same model); a candidate that fails verification is reported and the primary serves alone", async () => {
    const server = await startServeEngine(published.store, ["--shadow", `${AGENT}@cand`], pinned());
    try {
      for (const [i, text] of texts.slice(0, 8).entries()) {
        const { status, json } = await infer(server.url, text, `s-${i}`);
        expect(status).toBe(200);
        expect(json.parameters).toMatchObject({ served_role: "primary" });
        // Sequential requests: the shadow of one has time to finish before the next arrives most of the time.
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      let scrape = "";
      await waitFor(
        "shadow comparisons",
        async () => {
          scrape = await (await fetch(server.metricsUrl)).text();
          const compared = series(scrape, "trtforge_shadow_requests_total", { version: "cand", outcome: "compared" });
          const shed = series(scrape, "trtforge_shadow_requests_total", { version: "cand", outcome: "shed" });
          return compared >= 1 && compared + shed === 8;
        },
        240_000,
      );
      const count = series(scrape, "trtforge_shadow_cosine_count", { version: "cand" });
      const sum = series(scrape, "trtforge_shadow_cosine_sum", { version: "cand" });
      expect(count).toBeGreaterThanOrEqual(1);
      expect(sum / count).toBeGreaterThan(0.9999);
    } finally {
      await server.stop();
    }

    const damaged = await startServeEngine(published.store, ["--shadow", `${AGENT}@broken`], pinned());
    try {
      const { status, json } = await infer(damaged.url, texts[0]!, "after-drop");
      expect(status).toBe(200);
      // No candidate serves beside it: a plain answer from the primary.
      expect(json.model_version).toBe(published.version);
      expect(json.parameters.served_role).toBeUndefined();
      const scrape = await (await fetch(damaged.metricsUrl)).text();
      expect(series(scrape, "trtforge_rollout_candidate_dropped_total", { version: "broken", role: "shadow", stage: "load" })).toBe(1);
      expect(damaged.stderr()).toMatch(/shadow candidate could not be opened/);
      expect(damaged.stderr()).toMatch(/STORE_CHECKSUM_MISMATCH/);
    } finally {
      await damaged.stop();
    }
  }, 300_000);

  it("--shadow runs the candidate in a worker process of its own with every thread at nice 19; killed under traffic, no primary request fails and the shadow is reported dropped", async () => {
    const server = await startServeEngine(published.store, ["--shadow", `${AGENT}@cand`], pinned());
    try {
      const primaries = server.workers.filter((worker) => worker.role === "primary");
      const shadows = server.workers.filter((worker) => worker.role === "shadow");
      expect(primaries).toHaveLength(1);
      expect(shadows).toHaveLength(1);
      const [primary, shadow] = [primaries[0]!, shadows[0]!];
      expect(shadow.pid).not.toBe(primary.pid);
      expect(shadow.name).toBe(`shadow-${AGENT}`);
      // One client: more would keep the primary busy, and the shadow would shed every run.
      const load = loadLoop(server.url, 1, texts);
      let scrape = "";
      // At nice 19 on a host loaded by other work the shadow gets little CPU: a generous wait.
      await waitFor(
        "a shadow comparison",
        async () => {
          scrape = await (await fetch(server.metricsUrl)).text();
          return series(scrape, "trtforge_shadow_requests_total", { version: "cand", outcome: "compared" }) >= 1;
        },
        240_000,
      );
      // After runs, so ONNX Runtime's threads exist too: they inherited the shadow's nice; the primary's stay as started.
      const shadowNices = threadNices(shadow.pid);
      expect(shadowNices.length).toBeGreaterThan(1);
      expect(new Set(shadowNices)).toEqual(new Set([19]));
      expect(new Set(threadNices(primary.pid))).toEqual(new Set([getPriority()]));

      process.kill(shadow.pid, "SIGKILL");
      const answeredAtKill = load.answers.length;
      await waitFor("20 primary answers after the kill", () => Promise.resolve(load.answers.length >= answeredAtKill + 20), 120_000);
      const answers = await load.stop();
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      scrape = await (await fetch(server.metricsUrl)).text();
      // Told by the supervisor (exit), or first by a shadow run cut off by the kill (infer): one drop either way.
      const dropped = ["exit", "infer"].map((stage) =>
        series(scrape, "trtforge_rollout_candidate_dropped_total", { version: "cand", role: "shadow", stage }),
      );
      expect(dropped[0]! + dropped[1]!).toBe(1);
      expect(server.stderr()).toMatch(/shadow worker exited; its candidate is dropped/);
      // Dropped: no shadow runs after it, compared or shed.
      const settled = ["compared", "shed", "failed"].map((outcome) =>
        series(scrape, "trtforge_shadow_requests_total", { version: "cand", outcome }),
      );
      expect((await inferOne(server.url)).status).toBe(200);
      const after = await (await fetch(server.metricsUrl)).text();
      expect(
        ["compared", "shed", "failed"].map((outcome) => series(after, "trtforge_shadow_requests_total", { version: "cand", outcome })),
      ).toEqual(settled);
    } finally {
      await server.stop();
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
  }, 600_000);

  it("a hung shadow worker (SIGSTOP) holds up no primary answer, and at shutdown it is killed after its short drain while the primary drains and the server exits 0", async () => {
    const server = await startServeEngine(published.store, ["--shadow", `${AGENT}@cand`], pinned());
    let stopped: number | undefined;
    try {
      const shadow = server.workers.find((worker) => worker.role === "shadow")!;
      process.kill(shadow.pid, "SIGSTOP");
      stopped = shadow.pid;
      const answers = [];
      for (const [i, text] of texts.slice(0, 10).entries()) answers.push(await infer(server.url, text, `hung-${i}`));
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      // The first run waits on the hung shadow; every later one is shed (one run out at a time).
      const scrape = await (await fetch(server.metricsUrl)).text();
      expect(series(scrape, "trtforge_shadow_requests_total", { version: "cand", outcome: "shed" })).toBeGreaterThanOrEqual(9);
    } finally {
      await server.stop();
      if (stopped !== undefined) {
        // Killed by the supervisor already; a continue is harmless on a process that is gone.
        try {
          process.kill(stopped, "SIGCONT");
        } catch {
          // gone, as it should be
        }
      }
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toMatch(/"worker":"shadow-trt-embeddings"[^\n]*did not drain in time; killing it/);
  }, 300_000);
});
