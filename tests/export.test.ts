import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINILM, ROOT, runCli } from "./cli-helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-export-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Only the destination may appear in the parent folder: no leftover temporary folders. */
async function siblings(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith("."));
}

describe("build-engine export (real PyTorch, real ONNX Runtime)", () => {
  it("exports MiniLM to a validated ONNX with named dynamic inputs, both outputs and the figures", async () => {
    const out = join(dir, "minilm");
    const run = runCli("build-engine", [
      "export",
      "--model",
      MINILM,
      "--out",
      out,
      "--model-id",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--json",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as {
      inputs: string[];
      outputs: string[];
      validation: { passed: boolean; outputs: { output: string; max_abs_diff: number; cosine_min: number; samples: number }[] };
    };
    expect(result.inputs).toEqual(["input_ids", "attention_mask", "token_type_ids"]);
    expect(result.outputs).toEqual(["last_hidden_state", "sentence_embedding"]);
    expect(result.validation.passed).toBe(true);
    for (const o of result.validation.outputs) {
      expect(o.samples).toBe(64);
      expect(o.max_abs_diff).toBeLessThan(1e-4);
      expect(o.cosine_min).toBeGreaterThan(0.99999);
    }
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as {
      inputs: { name: string; shape: unknown[] }[];
      opset: number;
      model_id: string;
    };
    expect(report.opset).toBe(17);
    expect(report.model_id).toBe("sentence-transformers/all-MiniLM-L6-v2");
    expect(report.inputs[0]!.shape).toEqual(["batch", "sequence"]);
    expect((await readdir(out)).sort()).toEqual(["model.onnx", "reference.safetensors", "report.json", "samples.jsonl", "validation.json"]);
    // The reference articles are real AG News text from the embedded sample set.
    const firstSample = JSON.parse((await readFile(join(out, "samples.jsonl"), "utf8")).split("\n")[0]!) as { text: string };
    expect(firstSample.text.length).toBeGreaterThan(40);
    expect(await siblings()).toEqual([]);
  }, 240_000);

  it("exports a sequence-classification model (a small BERT made from a BertConfig)", async () => {
    const model = join(dir, "tiny-classifier");
    const python = join(ROOT, ".venv/bin/python");
    const script = `
import sys, shutil, torch
from transformers import BertConfig, BertForSequenceClassification
torch.manual_seed(0)
cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=3)
BertForSequenceClassification(cfg).save_pretrained(sys.argv[1])
for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
    shutil.copy(f"${MINILM}/{f}", sys.argv[1])
`;
    const made = (await import("node:child_process")).spawnSync(python, ["-c", script, model], {
      encoding: "utf8",
      env: { ...process.env, HF_HUB_OFFLINE: "1" },
    });
    expect(made.status, made.stderr).toBe(0);
    const out = join(dir, "classifier-onnx");
    const run = runCli("build-engine", ["export", "--model", model, "--out", out, "--max-samples", "16", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as { task: string; outputs: string[]; validation: { passed: boolean } };
    expect(result).toMatchObject({ task: "sequence-classification", outputs: ["logits"], validation: { passed: true } });
  }, 240_000);
});

describe("build-engine export: bad input gets a code and leaves nothing", () => {
  it("a folder that is not a model", async () => {
    const notModel = join(dir, "not-a-model");
    await mkdir(notModel, { recursive: true });
    await writeFile(join(notModel, "README.md"), "hello");
    const run = runCli("build-engine", ["export", "--model", notModel, "--out", join(dir, "x1")]);
    expect(run.status).toBe(80);
    expect(run.stderr).toMatch(/config\.json/);
    expect(existsSync(join(dir, "x1"))).toBe(false);
  });

  it("a task the model cannot do", () => {
    const run = runCli("build-engine", ["export", "--model", MINILM, "--out", join(dir, "x2"), "--task", "sequence-classification"]);
    expect(run.status, run.stderr).toBe(81);
    expect(run.stderr).toMatch(/classifier/);
    expect(existsSync(join(dir, "x2"))).toBe(false);
  }, 120_000);

  it("a model that needs the hub (remote code)", async () => {
    const remote = join(dir, "remote-code");
    await cp(MINILM, remote, { recursive: true, filter: (src) => !src.endsWith(".safetensors") });
    await cp(join(MINILM, "model.safetensors"), join(remote, "model.safetensors"));
    const config = JSON.parse(await readFile(join(remote, "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(remote, "config.json"), JSON.stringify({ ...config, auto_map: { AutoModel: "modeling_custom.CustomModel" } }));
    const run = runCli("build-engine", ["export", "--model", remote, "--out", join(dir, "x3")]);
    expect(run.status, run.stderr).toBe(82);
    expect(existsSync(join(dir, "x3"))).toBe(false);
  }, 120_000);

  it("a missing Python and a Python with the wrong versions", async () => {
    const missing = runCli("build-engine", ["export", "--model", MINILM, "--out", join(dir, "x4")], {
      TRTFORGE_PYTHON: join(dir, "no-such-python"),
    });
    expect(missing.status).toBe(52);
    expect(missing.stderr).toMatch(/no interpreter at/);
    // A stand-in interpreter that reports torch 2.12.1 where 2.13.0 is pinned.
    const fake = join(dir, "fake-python");
    const versions = {
      python: "3.11.7",
      packages: { torch: "2.12.1", transformers: "5.23.0", onnx: "1.23.2", onnxruntime: "1.30.0", onnxscript: "0.7.2" },
      onnxruntime_gpu: false,
    };
    await writeFile(fake, `#!/bin/sh\necho '${JSON.stringify(versions)}'\n`);
    await chmod(fake, 0o755);
    const wrong = runCli("build-engine", ["export", "--model", MINILM, "--out", join(dir, "x5")], { TRTFORGE_PYTHON: fake });
    expect(wrong.status).toBe(83);
    expect(wrong.stderr).toMatch(/torch: found 2\.12\.1, pinned 2\.13\.0/);
    expect(existsSync(join(dir, "x5"))).toBe(false);
  });

  it("an exporter that does not finish in time is stopped at the timeout and its temporary folder removed", () => {
    const run = runCli("build-engine", ["export", "--model", MINILM, "--out", join(dir, "x6"), "--export-timeout", "2"]);
    expect(run.status).toBe(85);
    expect(existsSync(join(dir, "x6"))).toBe(false);
  }, 60_000);

  it("leaves no temporary folder behind after all of the above", async () => {
    expect(await siblings()).toEqual([]);
  });
});
