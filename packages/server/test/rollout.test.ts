import { silentLogger, type Logger } from "@trtforge/core";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { thrown } from "../../../tests/support/errors.js";
import {
  checkCandidates,
  compareOutputs,
  createRollout,
  endpointSet,
  goesToCanary,
  parseCanaryRef,
  parseShadowRef,
  endpointShadowTarget,
  RolloutMetrics,
  startInProcessServer,
  type ShadowTarget,
  type ModelEndpoint,
  type RunningServer,
} from "../src/index.js";
import { directEndpoint, doubleModel } from "./served-model-double.js";

// Response bodies are read field by field with expect(); their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonObject = Record<string, any>;

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** A logger whose warnings and errors the test reads. */
function recordingLogger(): { logger: Logger; warnings: JsonObject[]; errors: JsonObject[] } {
  const warnings: JsonObject[] = [];
  const errors: JsonObject[] = [];
  const logger = Object.assign(silentLogger(), {
    warn: (fields: JsonObject) => warnings.push(fields),
    error: (fields: JsonObject) => errors.push(fields),
  }) as unknown as Logger;
  return { logger, warnings, errors };
}

async function serve(endpoint: ModelEndpoint): Promise<RunningServer> {
  const server = await startInProcessServer({ endpoints: endpointSet([endpoint]) });
  servers.push(server);
  return server;
}

async function infer(server: RunningServer, agent: string, body: JsonObject): Promise<{ status: number; json: JsonObject }> {
  const response = await fetch(`${server.url}/v2/models/${agent}/infer`, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as JsonObject };
}

const textBody = (texts: string[], id?: string): JsonObject => ({
  ...(id === undefined ? {} : { id }),
  inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
});

/** Sends `count` requests, `concurrency` at a time, and gives back their answers in order. */
async function many(count: number, concurrency: number, send: (i: number) => Promise<{ status: number; json: JsonObject }>) {
  const answers: { status: number; json: JsonObject }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        answers[i] = await send(i);
      }
    }),
  );
  return answers;
}

/** One part of a histogram (its `_count` or `_sum` series) from prom-client's JSON. */
async function histogramPart(registry: Registry, name: string, part: "count" | "sum"): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => (v as { metricName?: string }).metricName === `${name}_${part}`)?.value;
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

describe("candidate references", () => {
  it("parses --canary agent@version=percent and --shadow agent@version, and refuses malformed ones and candidates of agents not served", () => {
    expect(parseCanaryRef("news@v2=10")).toEqual({ role: "canary", agent: "news", version: "v2", percent: 10 });
    expect(parseCanaryRef("news@v2=0.5").percent).toBe(0.5);
    expect(parseShadowRef("news@v3")).toEqual({ role: "shadow", agent: "news", version: "v3" });
    for (const bad of ["news@v2", "news@v2=0", "news@v2=101", "news@v2=ten", "news=10", "@v2=5"]) {
      expect(["INVALID_LIMIT", "INVALID_NAME"], bad).toContain(thrown(() => parseCanaryRef(bad)).code);
    }
    expect(thrown(() => parseShadowRef("news")).code).toBe("INVALID_NAME");
    const notServed = thrown(() => checkCandidates([parseShadowRef("sports@v2")], ["news"]));
    expect(notServed.code).toBe("INVALID_OPTION");
    expect(notServed.message).toMatch(/"sports", which is not served/);
    expect(thrown(() => checkCandidates([parseShadowRef("news@v2"), parseCanaryRef("news@v3=5")], ["news"])).code).toBe("INVALID_OPTION");
  });
});

describe("served canary", () => {
  const primaryModel = doubleModel({ agent: "news", version: "v1", kind: "classification" });
  const canaryModel = doubleModel({ agent: "news", version: "v2", kind: "classification" });

  async function canaryServer(percent: number, canary: ModelEndpoint = directEndpoint(canaryModel)) {
    const registry = new Registry();
    const { logger, errors } = recordingLogger();
    const rollout = createRollout({ agent: "news", canary: { endpoint: canary, percent }, metrics: new RolloutMetrics(registry), logger });
    const server = await serve({ ...directEndpoint(primaryModel), rollout });
    return { server, registry, errors };
  }

  it("at 10% sends 10 ± 3 points of 2,000 requests without ids to the candidate, and each response names the version that served it", async () => {
    const { server, registry } = await canaryServer(10);
    const answers = await many(2000, 8, () => infer(server, "news", textBody(["markets rally after the rate decision"])));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const versions = answers.map((a) => a.json.model_version as string);
    for (const { json } of answers) {
      expect(json.parameters.served_version).toBe(json.model_version);
      expect(json.parameters.version).toBe(json.model_version);
      expect(json.parameters.served_role).toBe(json.model_version === "v2" ? "canary" : "primary");
    }
    const share = (versions.filter((v) => v === "v2").length / answers.length) * 100;
    expect(share).toBeGreaterThanOrEqual(7);
    expect(share).toBeLessThanOrEqual(13);
    expect(new Set(versions)).toEqual(new Set(["v1", "v2"]));
    expect(await metricValue(registry, "trtforge_rollout_requests_total", { version: "v2", role: "canary" })).toBe(
      versions.filter((v) => v === "v2").length,
    );
  }, 120_000);

  it("with request ids: 10 ± 3 points of 2,000 ids go to the candidate, and the same id always goes to the same side", async () => {
    const { server } = await canaryServer(10);
    const ids = Array.from({ length: 2000 }, (_, i) => `article-${i}`);
    const first = await many(ids.length, 8, (i) => infer(server, "news", textBody(["one two three"], ids[i])));
    const share = (first.filter((a) => a.json.model_version === "v2").length / ids.length) * 100;
    expect(share).toBeGreaterThanOrEqual(7);
    expect(share).toBeLessThanOrEqual(13);
    // Each of the first 300 ids again, twice: the same side every time.
    for (let round = 0; round < 2; round++) {
      const again = await many(300, 8, (i) => infer(server, "news", textBody(["one two three"], ids[i])));
      expect(again.map((a) => a.json.model_version)).toEqual(first.slice(0, 300).map((a) => a.json.model_version));
      expect(again.map((a) => a.json.id)).toEqual(ids.slice(0, 300));
    }
    // Stable across processes too: the side is a hash of the id, not of anything this process holds.
    expect(ids.map((id) => goesToCanary(10, id, () => 0))).toEqual(ids.map((id) => goesToCanary(10, id, () => 0.99)));
  }, 120_000);

  it("the canary's version URLs (ready, config, metadata) answer for the canary, as infer on that URL does; an unknown version stays 404", async () => {
    const { server } = await canaryServer(10);
    const get = async (path: string) => {
      const response = await fetch(`${server.url}/v2/models/news${path}`);
      return { status: response.status, text: await response.text() };
    };
    for (const version of ["v1", "v2"]) {
      expect((await get(`/versions/${version}/ready`)).status).toBe(200);
      const config = await get(`/versions/${version}/config`);
      expect(config.status).toBe(200);
      expect(JSON.parse(config.text)).toMatchObject({ name: "news" });
      const metadata = await get(`/versions/${version}`);
      expect(metadata.status).toBe(200);
      expect(JSON.parse(metadata.text)).toMatchObject({ name: "news", versions: [version] });
      const answered = await infer(server, "news", textBody(["a b"]));
      expect(answered.status).toBe(200);
      const pinned = await fetch(`${server.url}/v2/models/news/versions/${version}/infer`, {
        method: "POST",
        body: JSON.stringify(textBody(["a b"])),
      });
      expect(((await pinned.json()) as JsonObject).model_version).toBe(version);
    }
    for (const path of ["/versions/v3/ready", "/versions/v3/config", "/versions/v3"]) expect((await get(path)).status).toBe(404);
  });

  it("a canary that fails is dropped and its request answered by the primary; the primary keeps serving", async () => {
    const broken: ModelEndpoint = {
      ...directEndpoint(canaryModel),
      infer: () => Promise.reject(new Error("CUDA error: an illegal memory access was encountered")),
    };
    const { server, registry, errors } = await canaryServer(50, broken);
    const answers = await many(40, 4, () => infer(server, "news", textBody(["a b c d e f"])));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(answers.every((a) => a.json.model_version === "v1")).toBe(true);
    expect(await metricValue(registry, "trtforge_rollout_candidate_dropped_total", { version: "v2", role: "canary", stage: "infer" })).toBe(
      1,
    );
    expect(errors.filter((e) => e.role === "canary")).toHaveLength(1);
  });
});

describe("served shadow", () => {
  // Within the double's 8 tokens; one long enough for its "long" label.
  const texts = ["stocks fall", "home team wins the final", "rain", "parliament passes the budget"];

  it("a shadow candidate that throws never changes a primary response; it is reported and dropped", async () => {
    const primary = doubleModel({ agent: "news", version: "v1", kind: "classification" });
    const plain = await serve(directEndpoint(primary));
    const registry = new Registry();
    const { logger, errors } = recordingLogger();
    let shadowCalls = 0;
    const throwing: ModelEndpoint = {
      ...directEndpoint(doubleModel({ agent: "news", version: "v2", kind: "classification" })),
      infer: (request) => {
        shadowCalls++;
        request.release();
        throw new Error("shadow blew up");
      },
    };
    const rollout = createRollout({ agent: "news", shadow: { endpoint: throwing }, metrics: new RolloutMetrics(registry), logger });
    const shadowed = await serve({ ...directEndpoint(primary), rollout });
    for (const [i, text] of texts.entries()) {
      const body = { ...textBody([text], `r${i}`), outputs: [{ name: "label" }, { name: "probabilities" }] };
      const [alone, withShadow] = [await infer(plain, "news", body), await infer(shadowed, "news", body)];
      expect(withShadow.status).toBe(200);
      const { served_version: servedVersion, served_role: servedRole, ...parameters } = withShadow.json.parameters as JsonObject;
      expect([servedVersion, servedRole]).toEqual(["v1", "primary"]);
      expect({ ...withShadow.json, parameters }).toEqual(alone.json);
    }
    await expect.poll(() => metricValue(registry, "trtforge_shadow_requests_total", { outcome: "failed" })).toBe(1);
    expect(shadowCalls).toBe(1);
    expect(await metricValue(registry, "trtforge_rollout_candidate_dropped_total", { role: "shadow", stage: "infer" })).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ agent: "news", version: "v2", role: "shadow", err: expect.stringContaining("shadow blew up") });
  });

  it("compares every answered request: label agreement and |Δ confidence| for classifiers, with a bounded log of disagreements", async () => {
    const primary = doubleModel({ agent: "news", version: "v1", kind: "classification" });
    // The candidate calls a text "long" from 3 words where the primary needs 4: they disagree on 3 words.
    const candidateModel = doubleModel({ agent: "news", version: "v2", kind: "classification" });
    const candidate = {
      ...candidateModel,
      run: async (batch: Parameters<typeof candidateModel.run>[0]) => {
        const outputs = await candidateModel.run(batch);
        const label = outputs.find((o) => o.name === "label")!;
        const probabilities = outputs.find((o) => o.name === "probabilities")!;
        const rows = batch.rows;
        for (let r = 0; r < rows; r++) {
          let attended = 0;
          for (let t = 0; t < batch.seqLen; t++) attended += Number(batch.attentionMask[r * batch.seqLen + t]);
          if (attended - 2 >= 3 && label.datatype === "BYTES" && probabilities.datatype === "FP32") {
            label.data[r] = "long";
            probabilities.data.set([0.2, 0.8], r * 2);
          }
        }
        return outputs;
      },
    };
    const registry = new Registry();
    const { logger, warnings } = recordingLogger();
    const rollout = createRollout({
      agent: "news",
      shadow: { endpoint: directEndpoint(candidate), disagreementSample: 1 },
      metrics: new RolloutMetrics(registry),
      logger,
    });
    const server = await serve({ ...directEndpoint(primary), rollout });
    // 1, 2, 3, 3 and 4 words; the client asks only for the label, the shadow still compares probabilities.
    const cases = ["a", "a b", "a b c", "x y z", "a b c d"];
    for (const [i, text] of cases.entries()) {
      const { status, json } = await infer(server, "news", { ...textBody([text], `id-${i}`), outputs: [{ name: "label" }] });
      expect(status).toBe(200);
      expect(json.outputs.map((o: JsonObject) => o.name)).toEqual(["label"]);
    }
    await expect.poll(() => metricValue(registry, "trtforge_shadow_requests_total", { outcome: "compared" })).toBe(5);
    expect(await metricValue(registry, "trtforge_shadow_agreement_total", { agree: "true" })).toBe(3);
    expect(await metricValue(registry, "trtforge_shadow_agreement_total", { agree: "false" })).toBe(2);
    expect(await histogramPart(registry, "trtforge_shadow_confidence_delta", "count")).toBe(5);
    // Two disagreements counted, one logged: the sample is bounded.
    expect(warnings.map((w) => [w.id, w.primaryLabel, w.candidateLabel, w.text])).toEqual([["id-2", "short", "long", "a b c"]]);
  });

  it("records the cosine of embeddings, and sheds its own work (counted) while the primary is busy or a shadow run is in flight", async () => {
    const primary = doubleModel({ agent: "embed", version: "v1", kind: "embedding" });
    const registry = new Registry();
    let busy = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gated = true;
    const candidate = directEndpoint(doubleModel({ agent: "embed", version: "v2", kind: "embedding" }), {
      onInfer: () => (gated ? gate : Promise.resolve()),
    });
    const rollout = createRollout({
      agent: "embed",
      shadow: { endpoint: candidate },
      primaryBusy: () => busy,
      metrics: new RolloutMetrics(registry),
      logger: silentLogger(),
    });
    const server = await serve({ ...directEndpoint(primary), rollout });
    const shadowRuns = (outcome: string) => metricValue(registry, "trtforge_shadow_requests_total", { version: "v2", outcome });
    // The first shadow run waits at the gate; while it is in flight, the next requests' shadows are shed.
    expect((await infer(server, "embed", textBody(["first text"]))).status).toBe(200);
    await expect.poll(() => rollout.shadowInFlight).toBe(1);
    for (let i = 0; i < 3; i++) expect((await infer(server, "embed", textBody(["more text"]))).status).toBe(200);
    expect(await shadowRuns("shed")).toBe(3);
    gated = false;
    release();
    await expect.poll(() => shadowRuns("compared")).toBe(1);
    // The primary has requests waiting: shed, not queued.
    busy = true;
    expect((await infer(server, "embed", textBody(["busy"]))).status).toBe(200);
    await expect.poll(() => shadowRuns("shed")).toBe(4);
    busy = false;
    expect((await infer(server, "embed", textBody(["idle again"]))).status).toBe(200);
    await expect.poll(() => shadowRuns("compared")).toBe(2);
    const count = await histogramPart(registry, "trtforge_shadow_cosine", "count");
    const sum = await histogramPart(registry, "trtforge_shadow_cosine", "sum");
    // The two doubles compute the same embedding: cosine 1 for both rows compared.
    expect(count).toBe(2);
    expect(sum).toBeCloseTo(2, 6);
  });
});

describe("shadow elsewhere (serve-engine's shadow worker)", () => {
  it("a shadow target's runs are compared or shed as it answers; gone at exit it is dropped (stage exit) and runs no more; gone at load the agent answers as if it had none", async () => {
    const primary = doubleModel({ agent: "embed", version: "v1", kind: "embedding" });
    const local = endpointShadowTarget(directEndpoint(doubleModel({ agent: "embed", version: "v2", kind: "embedding" })));
    let answer: "run" | "shed" = "run";
    let runs = 0;
    const remote: ShadowTarget = {
      version: "v2",
      kind: "embedding",
      run: (call) => {
        runs++;
        return answer === "shed" ? Promise.resolve("shed") : local.run(call);
      },
    };
    const registry = new Registry();
    const { logger, errors } = recordingLogger();
    const rollout = createRollout({ agent: "embed", shadow: { target: remote }, metrics: new RolloutMetrics(registry), logger });
    const server = await serve({ ...directEndpoint(primary), rollout });
    const shadowRuns = (outcome: string) => metricValue(registry, "trtforge_shadow_requests_total", { version: "v2", outcome });
    expect((await infer(server, "embed", textBody(["first text"]))).status).toBe(200);
    await expect.poll(() => shadowRuns("compared")).toBe(1);
    answer = "shed";
    expect((await infer(server, "embed", textBody(["second text"]))).status).toBe(200);
    await expect.poll(() => shadowRuns("shed")).toBe(1);
    await expect.poll(() => rollout.shadowInFlight).toBe(0);
    rollout.shadowGone("exit", "the shadow worker exited (signal SIGKILL)");
    rollout.shadowGone("exit", "told twice: counted once");
    const after = await infer(server, "embed", textBody(["third text"]));
    expect(after.status).toBe(200);
    expect(after.json.parameters.served_role).toBe("primary");
    expect(runs).toBe(2);
    expect(await metricValue(registry, "trtforge_rollout_candidate_dropped_total", { version: "v2", role: "shadow", stage: "exit" })).toBe(
      1,
    );
    expect(errors).toEqual([expect.objectContaining({ role: "shadow", stage: "exit", err: "the shadow worker exited (signal SIGKILL)" })]);

    const neverOpened = createRollout({ agent: "embed", shadow: { target: remote }, metrics: new RolloutMetrics(new Registry()), logger });
    neverOpened.shadowGone("load", "STORE_CHECKSUM_MISMATCH");
    const plain = await serve({ ...directEndpoint(primary), rollout: neverOpened });
    const answered = await infer(plain, "embed", textBody(["fourth text"]));
    expect(answered.status).toBe(200);
    expect(answered.json.parameters.served_role).toBeUndefined();
    expect(runs).toBe(2);
  });
});

describe("compareOutputs", () => {
  it("computes cosine per embedding row and |Δ| of the primary's winning-class probability", () => {
    const emb = (data: number[]) => [
      { name: "sentence_embedding", datatype: "FP32" as const, shape: [2, 2], data: Float32Array.from(data) },
    ];
    const rows = compareOutputs("embedding", emb([1, 0, 3, 4]), emb([0, 1, 3, 4]))!;
    expect(rows[0]!.cosine).toBeCloseTo(0, 6);
    expect(rows[1]!.cosine).toBeCloseTo(1, 6);
    const cls = (labels: string[], probs: number[]) => [
      { name: "label", datatype: "BYTES" as const, shape: [labels.length], data: labels },
      { name: "probabilities", datatype: "FP32" as const, shape: [labels.length, 2], data: Float32Array.from(probs) },
    ];
    const [row] = compareOutputs("classification", cls(["pos"], [0.1, 0.9]), cls(["neg"], [0.6, 0.4]))!;
    expect(row).toMatchObject({ agree: false, primaryLabel: "pos", candidateLabel: "neg" });
    expect(row!.confidenceDelta).toBeCloseTo(0.5, 6);
  });
});
