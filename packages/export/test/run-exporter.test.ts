import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "@trtforge/core";
import { runExporter, type ExporterArgs, type ExportProgress } from "../src/index.js";
import { VALID_REPORT, writeFakeExporter } from "./fake-exporter.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-exporter-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const args: ExporterArgs = {
  modelDir: "/m",
  outDir: "/o",
  task: "auto",
  opset: 17,
  samplesFile: "/s.jsonl",
  maxSamples: 2,
  seqLen: 8,
  batchSize: 1,
};
const python = "python3";

async function run(body: string, extra: { timeoutMs?: number; signal?: AbortSignal; onProgress?: (p: ExportProgress) => void } = {}) {
  await writeFakeExporter(dir, "fake", body);
  return runExporter(args, {
    python,
    module: "fake",
    pythonPath: dir,
    timeoutMs: extra.timeoutMs ?? 20_000,
    signal: extra.signal,
    logger: silentLogger(),
    onProgress: extra.onProgress,
  });
}

describe("runExporter against real child processes", () => {
  it("returns the report and forwards progress", async () => {
    const progress: ExportProgress[] = [];
    const report = await run(
      `for i in range(3):\n    emit({"type":"progress","stage":"export","current":i+1,"total":3})\nemit({"type":"log","level":"info","message":"hello"})\nemit({"type":"result","report":json.loads(${JSON.stringify(JSON.stringify(VALID_REPORT))})})`,
      { onProgress: (p) => progress.push(p) },
    );
    expect(report.task).toBe("feature-extraction");
    expect(progress.map((p) => p.current)).toEqual([1, 2, 3]);
  });

  it("passes the options as arguments and the offline environment", async () => {
    const report = await run(
      `r=json.loads(${JSON.stringify(JSON.stringify(VALID_REPORT))})\nr["model_dir"]=" ".join(sys.argv[1:])\nr["model_id"]=os.environ.get("HF_HUB_OFFLINE")\nemit({"type":"result","report":r})`,
    );
    expect(report.model_dir).toContain("--model /m --out /o --task auto --opset 17 --samples /s.jsonl --max-samples 2");
    expect(report.model_id).toBe("1");
  });

  it.each([
    ["NOT_A_MODEL", "EXPORT_NOT_A_MODEL", 80],
    ["TASK_UNSUPPORTED", "EXPORT_TASK_UNSUPPORTED", 81],
    ["NEEDS_HUB", "EXPORT_NEEDS_HUB", 82],
    ["INTERNAL", "EXPORT_CHILD_FAILED", 84],
  ])("maps the exporter's %s to %s", async (childCode, code, exitCode) => {
    await expect(
      run(`emit({"type":"error","code":"${childCode}","message":"why it failed","fix":"do this"})\nsys.exit(3)`),
    ).rejects.toMatchObject({
      code,
      exitCode,
      fix: "do this",
      message: expect.stringContaining("why it failed"),
    });
  });

  it("puts a crashing child's stderr in the error", async () => {
    await expect(run(`sys.stderr.write("Traceback: boom in layer 3\\n")\nraise SystemExit(9)`)).rejects.toMatchObject({
      code: "EXPORT_CHILD_FAILED",
      message: expect.stringMatching(/exited with status 9[\s\S]*boom in layer 3/),
    });
  });

  it("reports output that breaks the protocol", async () => {
    await expect(run(`print("loading weights...", flush=True)`)).rejects.toMatchObject({
      code: "EXPORT_PROTOCOL",
      message: expect.stringContaining("loading weights..."),
    });
  });

  it("kills a hanging child at the timeout", async () => {
    const started = Date.now();
    await expect(run(`time.sleep(60)`, { timeoutMs: 1500 })).rejects.toMatchObject({ code: "EXPORT_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("stops the child on abort (Ctrl-C) and says so", async () => {
    const controller = new AbortController();
    const marker = join(dir, "still-running");
    setTimeout(() => controller.abort(), 800);
    await expect(
      run(`time.sleep(2)\nopen(${JSON.stringify(marker)}, "w").write("x")`, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: "CANCELLED" });
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(marker)).toBe(false);
  });
});
