/**
 * model-store export-triton against a store published by build-engine (marker engine, real ONNX and
 * tokenizer) plus versions holding stand-in "real" engines (plan bytes and a v1 sidecar of kind
 * engine, for two compute capabilities): the repository layout, the recorded version numbers,
 * markers never becoming plans, refusing to overwrite, and a killed export leaving nothing.
 */
import { spawn } from "node:child_process";
import { cp, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli-helpers.js";
import { AGENT, publishMiniLm, republish, type PublishedStore } from "../support/serve-engine.js";
import { publishRealEngine } from "../support/triton-store.js";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function exportTriton(store: string, out: string, ...args: string[]) {
  return runCli("model-store", ["export-triton", "--root", store, "--out", out, "--json", ...args]);
}

interface ExportJson {
  numbers: Record<string, Record<string, number>>;
  skippedPlans: { agent: string; version: string; reason: string }[];
  models: { name: string; kind: string; versions: number[] }[];
}

let fixture: PublishedStore;

beforeAll(async () => {
  fixture = await publishMiniLm();
  await publishRealEngine(fixture, "real-sm86", "8.6");
  await publishRealEngine(fixture, "real-sm90", "9.0");
}, 900_000);

afterAll(async () => {
  await fixture?.cleanup();
});

describe("model-store export-triton", () => {
  it("exports the current marker version without a plan, with the ONNX, tokenizer and ensemble models", async () => {
    const out = join(fixture.dir, "repo-current");
    const run = exportTriton(fixture.store, out);
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as unknown as ExportJson;
    expect(result.numbers).toEqual({ [AGENT]: { [fixture.version]: 1 } });
    expect(result.skippedPlans).toHaveLength(1);
    expect(result.skippedPlans[0]!.reason).toMatch(/marker engine/);
    // Markers never become plans: no engine model at all.
    expect(await exists(join(out, AGENT))).toBe(false);
    expect((await readdir(out)).sort()).toEqual([`${AGENT}_onnx`, `${AGENT}_text`, `${AGENT}_tokenize`, "trtforge-versions.json"]);
    const onnxConfig = await readFile(join(out, `${AGENT}_onnx`, "config.pbtxt"), "utf8");
    expect(onnxConfig).toContain('platform: "onnxruntime_onnx"');
    expect(onnxConfig).toMatch(/name: "input_ids"\n\s+data_type: TYPE_INT64\n\s+dims: \[ -1 \]/);
    expect(onnxConfig).toMatch(/name: "sentence_embedding"\n\s+data_type: TYPE_FP32\n\s+dims: \[ 384 \]/);
    expect(onnxConfig).toContain(`string_value: "${fixture.version}"`);
    // The ONNX is the one the serving fallback runs, byte for byte.
    const exported = await readFile(join(out, `${AGENT}_onnx`, "1", "model.onnx"));
    expect(exported.equals(await readFile(join(fixture.versionPath, "model.onnx")))).toBe(true);
    // Warm-up tensors are the real token ids of a news sentence: [CLS] … [SEP].
    const ids = new BigInt64Array(new Uint8Array(await readFile(join(out, `${AGENT}_onnx`, "warmup", "input_ids"))).buffer);
    expect(ids[0]).toBe(101n);
    expect(ids[ids.length - 1]).toBe(102n);
    expect(ids.length).toBeGreaterThan(5);
  });

  it("with --require-real refuses a marker (exit 72) and writes nothing", async () => {
    const out = join(fixture.dir, "repo-require-real");
    const run = exportTriton(fixture.store, out, "--require-real");
    expect(run.status).toBe(72);
    expect((run.json().error as { code: string }).code).toBe("TRITON_ENGINE_NOT_REAL");
    expect(await exists(out)).toBe(false);
    expect((await readdir(fixture.dir)).filter((e) => e.includes("triton-export"))).toEqual([]);
  });

  it("keeps version numbers across re-exports and new publishes; plans for two GPUs share a number", async () => {
    const out = join(fixture.dir, "repo-all");
    const first = exportTriton(fixture.store, out, "--versions", "all");
    expect(first.status, first.stderr).toBe(0);
    const numbers = (first.json() as unknown as ExportJson).numbers[AGENT]!;
    expect(numbers).toEqual({ [fixture.version]: 1, "real-sm86": 2, "real-sm90": 2 });
    const planConfig = await readFile(join(out, AGENT, "config.pbtxt"), "utf8");
    expect(planConfig).toContain('platform: "tensorrt_plan"');
    expect(planConfig).toContain('cc_model_filenames { key: "8.6" value: "model_sm86.plan" }');
    expect(planConfig).toContain('cc_model_filenames { key: "9.0" value: "model_sm90.plan" }');
    expect((await readdir(join(out, AGENT, "2"))).sort()).toEqual(["model_sm86.plan", "model_sm90.plan"]);
    expect((await readFile(join(out, AGENT, "2", "model_sm90.plan"))).toString("latin1")).toContain("plan for sm 9.0");

    const again = exportTriton(fixture.store, out, "--versions", "all");
    expect(again.status, again.stderr).toBe(0);
    expect((again.json() as unknown as ExportJson).numbers[AGENT]).toEqual(numbers);

    // A new publish gets the next number; the old ones stay, and the mapping file names all.
    const added = await republish(fixture.dir, fixture.store, fixture.versionPath, "later");
    const third = exportTriton(fixture.store, out, "--versions", "all");
    expect(third.status, third.stderr).toBe(0);
    expect((third.json() as unknown as ExportJson).numbers[AGENT]).toEqual({ ...numbers, [added.version]: 3 });
    const mapping = JSON.parse(await readFile(join(out, "trtforge-versions.json"), "utf8")) as {
      agents: Record<string, Record<string, { number: number; model_id: string; revision: string; trt_version: string; checksum: string }>>;
    };
    expect(mapping.agents[AGENT]!.later).toMatchObject({
      number: 3,
      model_id: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
      trt_version: "10.16.0",
    });
    expect(mapping.agents[AGENT]!.later!.checksum).toMatch(/^[0-9a-f]{64}$/);
    // Exporting only the current version later keeps every number recorded.
    const current = exportTriton(fixture.store, out);
    expect(current.status, current.stderr).toBe(0);
    expect((current.json() as unknown as ExportJson).numbers[AGENT]).toEqual({ later: 3 });
    const kept = JSON.parse(await readFile(join(out, "trtforge-versions.json"), "utf8")) as typeof mapping;
    expect(Object.fromEntries(Object.entries(kept.agents[AGENT]!).map(([v, e]) => [v, e.number]))).toEqual({ ...numbers, later: 3 });
    await rm(join(fixture.store, AGENT, "versions", "later"), { recursive: true });
    runCli("model-store", ["promote", AGENT, fixture.version, "--root", fixture.store, "--no-verify", "--without-evidence", "--json"]);
  });

  it("refuses to replace a folder that is not this store's repository (exit 71) unless --force", async () => {
    const out = join(fixture.dir, "not-a-repo");
    await cp(join(fixture.versionPath, "tokenizer"), out, { recursive: true });
    const refused = exportTriton(fixture.store, out);
    expect(refused.status).toBe(71);
    expect((refused.json().error as { code: string }).code).toBe("TRITON_REPOSITORY_EXISTS");
    expect(await exists(join(out, "vocab.txt"))).toBe(true);
    const forced = exportTriton(fixture.store, out, "--force");
    expect(forced.status, forced.stderr).toBe(0);
    expect(await exists(join(out, "vocab.txt"))).toBe(false);
    expect(await exists(join(out, "trtforge-versions.json"))).toBe(true);
  });

  it("a killed export (SIGKILL while writing) leaves no repository, and the next export clears its staging", async () => {
    const out = join(fixture.dir, "repo-killed");
    const { NODE_PATH: _hoisted, ...env } = process.env;
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "../../packages/cli/bin/model-store.js"),
        "export-triton",
        "--root",
        fixture.store,
        "--out",
        out,
        "--versions",
        "all",
        "--copy",
      ],
      { env: { ...env, LOG_LEVEL: "warn" }, stdio: "ignore" },
    );
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    let staged: string | undefined;
    while (staged === undefined && child.exitCode === null) {
      staged = (await readdir(fixture.dir)).find((e) => e.startsWith(".repo-killed.triton-export-"));
      if (staged === undefined) await new Promise((r) => setTimeout(r, 2));
    }
    expect(staged, "the export finished before its staging folder was seen").toBeDefined();
    child.kill("SIGKILL");
    await exited;
    expect(await exists(out)).toBe(false);
    const rerun = exportTriton(fixture.store, out);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(await exists(out)).toBe(true);
    expect((await readdir(fixture.dir)).filter((e) => e.includes(".repo-killed.triton-export-"))).toEqual([]);
  });
});
