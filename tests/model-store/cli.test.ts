import { existsSync } from "node:fs";
import { open, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli, tempDir, testModelFolder } from "./helpers.js";

beforeAll(() => assertBuilt());

async function sourceTree(dir: string): Promise<string> {
  const source = join(dir, "source");
  await mkdir(join(source, "onnx"), { recursive: true });
  await writeFile(join(source, "config.json"), "{}");
  await writeFile(join(source, "onnx", "model.onnx"), Buffer.alloc(200_000, 3));
  return source;
}

describe("model-store CLI", () => {
  it("imports all-MiniLM-L6-v2 from its folder and records model id and revision", async () => {
    const model = testModelFolder();
    const root = join(await tempDir(), "store");
    const imported = await runCli([
      "import-hf",
      "--root",
      root,
      "--agent",
      "memory",
      "--model",
      model,
      "--model-id",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--revision",
      "fa97f6e7cb1a59073dff9e6b13e2715cf7475ac9",
      "--json",
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json).toMatchObject({
      ok: true,
      agent: "memory",
      modelId: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "fa97f6e7cb1a59073dff9e6b13e2715cf7475ac9",
      current: true,
      model: { modelType: "bert", weightFiles: ["model.safetensors"] },
    });
    expect(imported.json.version).toMatch(/^v\d{8}-\d{6}$/);
    expect(imported.stderr).toContain("published memory/");

    const shown = await runCli(["show", "--root", root, "--agent", "memory", "--json"]);
    expect(shown.json).toMatchObject({
      ok: true,
      isCurrent: true,
      manifest: {
        metadata: { model_id: "sentence-transformers/all-MiniLM-L6-v2", hf_revision: "fa97f6e7cb1a59073dff9e6b13e2715cf7475ac9" },
      },
    });
    expect(existsSync(join(shown.json.model.folder, "config.json"))).toBe(true);
    expect(existsSync(join(shown.json.model.folder, "1_Pooling", "config.json"))).toBe(true);

    const verified = await runCli(["verify", "--root", root, "--agent", "memory", "--json"]);
    expect(verified.json).toMatchObject({ ok: true, problems: [] });
    expect(verified.json.totalBytes).toBeGreaterThan(80e6);
  });

  it("refuses a folder that is not a model with STORE_NOT_A_MODEL naming what is missing", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const run = await runCli(["import-hf", "--root", join(dir, "store"), "--agent", "memory", "--model", source, "--json"]);
    expect(run.code).toBe(69);
    expect(run.json.error).toMatchObject({
      code: "STORE_NOT_A_MODEL",
      input: source,
      details: { missing: [expect.stringContaining("no weights"), expect.stringContaining("no tokenizer")] },
    });
    expect(existsSync(join(dir, "store"))).toBe(false);
  });

  it("publishes, lists, shows, verifies, rolls back and collects garbage with --json on stdout only", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "store");
    for (const version of ["v1", "v2", "v3"]) {
      await writeFile(join(source, "version.txt"), version);
      const run = await runCli([
        "publish",
        "--root",
        root,
        "--agent",
        "analyst",
        "--version",
        version,
        "--metadata",
        '{"author":"ci"}',
        "--json",
        source,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ ok: true, version, current: true });
    }
    const listed = await runCli(["list", "--root", root, "--agent", "analyst", "--json"]);
    expect(listed.json.versions.map((v: { version: string; isCurrent: boolean }) => [v.version, v.isCurrent])).toEqual([
      ["v1", false],
      ["v2", false],
      ["v3", true],
    ]);
    const agents = await runCli(["list", "--root", root, "--json"]);
    expect(agents.json).toEqual({ ok: true, agents: [{ agent: "analyst", current: "v3", currentLayout: "versions", versionCount: 3 }] });
    const shown = await runCli(["show", "--root", root, "--agent", "analyst", "--version", "v1", "--json"]);
    expect(shown.json).toMatchObject({ version: "v1", isCurrent: false, manifest: { metadata: { author: "ci" } } });
    const rolled = await runCli(["rollback", "--root", root, "--agent", "analyst", "--json"]);
    expect(rolled.json).toMatchObject({ ok: true, from: "v3", to: "v2", verification: { ok: true } });
    const collected = await runCli(["gc", "--root", root, "--keep", "1", "--json"]);
    expect(collected.json).toMatchObject({
      ok: true,
      keep: 1,
      agents: [{ agent: "analyst", retention: { keep: ["v3", "v2", "v1"], remove: [] } }],
    });
    const human = await runCli(["list", "--root", root, "--agent", "analyst"]);
    expect(human.stdout).toMatch(/^\* v2\t/m);
  });

  it("rollback after promoting the oldest version returns to the version it replaced (was exit 68)", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "store");
    for (const version of ["v1", "v2", "v3"]) {
      const run = await runCli(["publish", "--root", root, "--agent", "a", "--version", version, source]);
      expect(run.code, run.stderr).toBe(0);
    }
    const refused = await runCli(["promote", "a", "v1", "--root", root]);
    expect(refused.code).toBe(97);
    expect(refused.stderr).toContain("error[PROMOTION_EVIDENCE_REQUIRED]: promoting a@v1 over the current v3 needs evidence");
    const promoted = await runCli(["promote", "a", "v1", "--root", root, "--without-evidence"]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain("a: current v3 -> v1 (verified) without evidence (recorded)");
    // show prints what the promotion rested on (the manifest keeps it through later switches).
    const show = await runCli(["show", "--agent", "a", "--version", "v1", "--root", root]);
    expect(show.stdout).toMatch(/^ {2}promoted: \S+ by \S+@\S+ over v3 WITHOUT evidence \(--without-evidence\)$/m);
    const rolled = await runCli(["rollback", "--root", root, "--agent", "a"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain("a: current v1 -> v3, undoing the last switch (verified)");
    const again = await runCli(["rollback", "--root", root, "--agent", "a", "--json"]);
    expect(again.json).toMatchObject({ ok: true, from: "v3", to: "v2", basis: "history" });
    const named = await runCli(["rollback", "--root", root, "--agent", "a", "--to", "v1", "--json"]);
    expect(named.json).toMatchObject({ ok: true, from: "v2", to: "v1", basis: "named" });
  });

  it("exits 66 and names the damaged file when verify fails", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "store");
    await runCli(["publish", "--root", root, "--agent", "a", "--version", "v1", source]);
    const handle = await open(join(root, "a", "versions", "v1", "onnx", "model.onnx"), "r+");
    await handle.write(Buffer.from([4]), 0, 1, 123_456);
    await handle.close();
    const run = await runCli(["verify", "--root", root, "--agent", "a", "--json"]);
    expect(run.code).toBe(66);
    expect(run.json.error).toMatchObject({ code: "STORE_CHECKSUM_MISMATCH", details: { report: { firstBadFile: "onnx/model.onnx" } } });
    expect(run.stderr).toContain("first bad file onnx/model.onnx");
    const human = await runCli(["verify", "--root", root, "--agent", "a"]);
    expect(human.code).toBe(66);
    expect(human.stdout).toBe("");
  });

  it("takes the root from MODEL_STORE_ROOT, and says so when neither is given", async () => {
    const dir = await tempDir();
    const source = await sourceTree(dir);
    const root = join(dir, "env-store");
    const run = await runCli(["publish", "--agent", "a", "--version", "v1", "--json", source], { MODEL_STORE_ROOT: root });
    expect(run.json).toMatchObject({ ok: true, path: join(root, "a", "versions", "v1") });
    const missing = await runCli(["list", "--json"], { MODEL_STORE_ROOT: undefined });
    expect(missing.code).toBe(2);
    expect(missing.json.error).toMatchObject({ code: "USAGE", message: expect.stringContaining("MODEL_STORE_ROOT") });
  });

  it("reports usage errors with exit 2", async () => {
    const run = await runCli(["publish", "--json"]);
    expect(run.code).toBe(2);
    expect(run.json).toMatchObject({ ok: false, error: { code: "USAGE" } });
  });
});
