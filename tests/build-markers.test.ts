import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli-helpers.js";

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-e2e-"));
  out = join(dir, "out");
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function listing(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}

describe("build-engine --build-markers → verify-engine", () => {
  it("writes a marker and metadata per model and precision of conf/models.yaml, each verifiable", async () => {
    const run = runCli("build-engine", ["--build-markers", "--out", out, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as { ok: boolean; engines: { engine: string; kind: string; task: string; precision: string }[] };
    expect(result.ok).toBe(true);
    // 3 models × [fp16, int8]
    expect(result.engines).toHaveLength(6);
    expect(new Set(result.engines.map((e) => e.task))).toEqual(new Set(["sentiment", "bias", "embeddings"]));
    expect((await listing(out)).sort()).toHaveLength(12);
    for (const { engine } of result.engines) {
      const verify = runCli("verify-engine", [engine, "--json"]);
      expect(verify.status, verify.stdout).toBe(0);
      expect(verify.json()).toMatchObject({ ok: true, kind: "marker", schema: "v1", problems: [] });
    }
  });

  it("fails --require-real on a marker and finds one appended byte", async () => {
    const run = runCli("build-engine", ["--build-markers", "--out", out, "--only", "embeddings", "--precision", "int8", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const [engine] = (run.json() as { engines: { engine: string }[] }).engines.map((e) => e.engine);
    expect(engine).toMatch(/embeddings\.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10\.16\.0-int8\.engine$/);
    const real = runCli("verify-engine", [engine!, "--require-real", "--json"]);
    expect(real.status).toBe(1);
    expect(real.json()).toMatchObject({ ok: false, kind: "marker", problems: [{ code: "MARKER_NOT_REAL" }] });
    await appendFile(engine!, "x");
    const tampered = runCli("verify-engine", [engine!, "--json"]);
    expect(tampered.status).toBe(1);
    expect((tampered.json().problems as { code: string }[]).map((p) => p.code)).toContain("CHECKSUM_MISMATCH");
  });

  it("finds a truncated marker and metadata that disagrees with the name", async () => {
    const run = runCli("build-engine", ["--build-markers", "--out", out, "--only", "bias", "--precision", "fp16", "--json"]);
    const [engine] = (run.json() as { engines: { engine: string; metadata: string }[] }).engines;
    await truncate(engine!.engine, 30);
    const truncated = runCli("verify-engine", [engine!.engine, "--json"]);
    expect(truncated.status).toBe(1);
    expect((truncated.json().problems as { code: string }[]).map((p) => p.code)).toEqual(
      expect.arrayContaining(["ENGINE_TRUNCATED", "CHECKSUM_MISMATCH"]),
    );
    const metadata = JSON.parse(await readFile(engine!.metadata, "utf8")) as Record<string, unknown>;
    await writeFile(engine!.metadata, JSON.stringify({ ...metadata, precision: "int8" }));
    const renamed = runCli("verify-engine", [engine!.engine]);
    expect(renamed.status).toBe(1);
    expect(renamed.stdout).toMatch(/NAME_MISMATCH/);
    expect(renamed.stdout).toMatch(/precision \(name: fp16, metadata: int8\)/);
  });

  it("prints a readable report without --json", async () => {
    runCli("build-engine", ["--build-markers", "--out", out, "--only", "sentiment", "--precision", "fp16"]);
    const [name] = await listing(out);
    const run = runCli("verify-engine", [join(out, name!.replace(/\.json$/, ".engine"))]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/kind: marker/);
    expect(run.stdout).toMatch(/verdict: OK/);
  });
});

describe("bad input leaves nothing behind", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["unknown precision", ["--precision", "fp64"], 10, /fp64.*--precision|--precision.*fp64/],
    ["zero batch", ["--max-batch", "0"], 11, /--max-batch.*got 0/],
    ["negative batch", ["--max-batch", "-4"], 11, /--max-batch.*got -4/],
    ["absurd batch", ["--max-batch", "1000000"], 11, /--max-batch.*1000000/],
    ["non-numeric batch", ["--max-batch", "12abc"], 11, /--max-batch.*12abc/],
    ["zero sequence length", ["--sequence-length", "0"], 11, /--sequence-length.*got 0/],
    ["absurd sequence length", ["--sequence-length", "99999999"], 11, /--sequence-length/],
    ["unknown task in --only", ["--only", "poetry"], 14, /poetry/],
    ["a folder as --config", ["--config", "DIR"], 21, /is a directory/],
    ["a missing --config", ["--config", "DIR/absent.yaml"], 20, /absent\.yaml/],
  ];

  it.each(cases)("%s", async (_label, args, exitCode, message) => {
    const resolved = args.map((a) => a.replace("DIR", dir));
    const run = runCli("build-engine", ["--build-markers", "--out", out, ...resolved]);
    expect(run.status, run.stderr).toBe(exitCode);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/fix: /);
    expect(await listing(out)).toEqual([]);
  });

  it("malformed YAML names the file and line, with its own exit code", async () => {
    const config = join(dir, "models.yaml");
    await writeFile(config, "version: 1\nmodels:\n  - task: x\n    model_id: [unclosed\n");
    const run = runCli("build-engine", ["--build-markers", "--out", out, "--config", config, "--json"]);
    expect(run.status).toBe(30);
    expect(run.stderr).toContain(config);
    expect(run.json()).toMatchObject({ ok: false, error: { code: "YAML_MALFORMED", exit_code: 30 } });
    expect(await listing(out)).toEqual([]);
  });

  it("a task with ../ in the build matrix is refused", async () => {
    const original = await readFile(join(ROOT, "conf/models.yaml"), "utf8");
    const config = join(dir, "models.yaml");
    await writeFile(config, original.replace("task: bias", "task: ../bias"));
    const run = runCli("build-engine", ["--build-markers", "--out", out, "--config", config]);
    expect(run.status).toBe(12);
    expect(run.stderr).toMatch(/\.\.\/bias/);
    expect(run.stderr).toMatch(new RegExp(`${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+`));
    expect(await listing(out)).toEqual([]);
  });

  it("an existing marker is not overwritten without --force, and the run writes nothing", async () => {
    expect(runCli("build-engine", ["--build-markers", "--out", out, "--only", "embeddings"]).status).toBe(0);
    const before = (await listing(out)).sort();
    const again = runCli("build-engine", ["--build-markers", "--out", out]);
    expect(again.status).toBe(24);
    expect(again.stderr).toMatch(/already exists/);
    expect((await listing(out)).sort()).toEqual(before);
    expect(runCli("build-engine", ["--build-markers", "--out", out, "--force"]).status).toBe(0);
    expect(await listing(out)).toHaveLength(12);
  });

  it("verify-engine: usage errors exit 2", async () => {
    expect(runCli("verify-engine", [join(dir, "absent.engine")]).status).toBe(2);
    await mkdir(join(dir, "x.engine"));
    const folder = runCli("verify-engine", [join(dir, "x.engine"), "--json"]);
    expect(folder.status).toBe(2);
    expect(folder.json()).toMatchObject({ ok: false, error: { code: "USAGE" } });
    expect(runCli("verify-engine", []).status).toBe(2);
    expect(runCli("verify-engine", ["a.engine", "--bogus"]).status).toBe(2);
  });

  it("build-engine: conflicting or missing modes are usage errors", () => {
    expect(runCli("build-engine", []).status).toBe(2);
    expect(runCli("build-engine", ["--build-markers"]).stderr).toMatch(/--out/);
    expect(runCli("build-engine", ["--check-only", "--build-markers", "--out", out]).status).toBe(2);
    expect(runCli("build-engine", ["--check-only", "--for", "teleport"]).status).toBe(2);
    // Subcommands keep the convention too.
    expect(runCli("build-engine", ["export", "--bogus"]).status).toBe(2);
    expect(runCli("build-engine", ["export", "--out", out]).stderr).toMatch(/--model/);
  });
});

describe("build-engine --check-only", () => {
  it("reports every mode and exits non-zero for a mode this host cannot run", () => {
    const all = runCli("build-engine", ["--check-only", "--json"]);
    expect(all.status, all.stderr).toBe(0);
    const report = all.json() as { modes: Record<string, { ready: boolean }> };
    expect(Object.keys(report.modes).sort()).toEqual(["build", "calibrate", "export", "marker"]);
    expect(report.modes.marker?.ready).toBe(true);
    expect(runCli("build-engine", ["--check-only", "--for", "marker"]).status).toBe(0);
    // No machine of this project has a GPU or TensorRT.
    const build = runCli("build-engine", ["--check-only", "--for", "build"]);
    expect(build.status).toBe(50);
    expect(build.stderr).toMatch(/HOST_MODE_UNAVAILABLE/);
    expect(build.stderr).toMatch(/addon|TensorRT/);
  });
});

describe("build-engine --build-markers --store", () => {
  it("publishes one verified version per task into the ModelStore, each marker verifiable there", async () => {
    const root = join(dir, "store");
    const run = runCli("build-engine", ["--build-markers", "--store", "--store-root", root, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const published = (run.json() as { published: { agent: string; path: string }[] }).published;
    expect(published.map((p) => p.agent).sort()).toEqual(["trt-bias", "trt-embeddings", "trt-sentiment"]);
    for (const { agent, path } of published) {
      const verify = runCli("model-store", ["verify", "--agent", agent, "--root", root, "--json"]);
      expect(verify.status, verify.stdout).toBe(0);
      const engines = (await readdir(path)).filter((f) => f.endsWith(".engine"));
      expect(engines).toHaveLength(2);
      for (const engine of engines) {
        expect(runCli("verify-engine", [join(root, agent, "current", engine), "--json"]).json()).toMatchObject({
          ok: true,
          kind: "marker",
        });
      }
    }
  });

  it("needs exactly one destination", () => {
    const both = runCli("build-engine", ["--build-markers", "--store", "--out", out]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --out/);
  });
});
