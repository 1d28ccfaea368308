import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINILM, ROOT, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-shapes-"));
  // Store roots must exist: build-engine checks the store before anything else.
  for (const store of ["store-8192", "store-roberta", "store-tiny"]) await mkdir(join(dir, store));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("build-engine refuses a sequence length the model cannot take, before any work", () => {
  it("--sequence-length 8192 for all-MiniLM-L6-v2 (512 positions)", () => {
    const work = join(dir, "work-8192");
    const started = Date.now();
    const run = runCli("build-engine", [
      "--model",
      MINILM,
      "--model-id",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--sequence-length",
      "8192",
      "--marker",
      "--work-dir",
      work,
      "--store-root",
      join(dir, "store-8192"),
    ]);
    expect(run.status, run.stderr).toBe(15);
    expect(run.stderr).toMatch(/SEQUENCE_TOO_LONG/);
    expect(run.stderr).toMatch(/at most 512 tokens \(config\.json max_position_embeddings 512\)/);
    expect(run.stderr).toMatch(/--sequence-length 512 or less/);
    // Refused before the export: nothing was written and no Python ran.
    expect(existsSync(work)).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("--sequence-length 514 for a RoBERTa config (514-row table, padding_idx 1): 512 named", async () => {
    const roberta = join(dir, "roberta");
    await mkdir(roberta, { recursive: true });
    await writeFile(
      join(roberta, "config.json"),
      JSON.stringify({
        architectures: ["RobertaForSequenceClassification"],
        model_type: "roberta",
        max_position_embeddings: 514,
        pad_token_id: 1,
        type_vocab_size: 1,
      }),
    );
    const work = join(dir, "work-roberta");
    const run = runCli("build-engine", [
      "--model",
      roberta,
      "--model-id",
      "cardiffnlp/twitter-roberta-base-sentiment-latest",
      "--sequence-length",
      "514",
      "--marker",
      "--work-dir",
      work,
      "--store-root",
      join(dir, "store-roberta"),
    ]);
    expect(run.status, run.stderr).toBe(15);
    expect(run.stderr).toMatch(/at most 512 tokens \(config\.json max_position_embeddings 514 − padding_idx 1 − 1/);
    expect(existsSync(work)).toBe(false);
  });

  it("build-engine export --seq-len 600 for all-MiniLM-L6-v2: refused before the exporter runs", () => {
    const out = join(dir, "export-600");
    const run = runCli("build-engine", ["export", "--model", MINILM, "--out", out, "--seq-len", "600"]);
    expect(run.status, run.stderr).toBe(15);
    expect(run.stderr).toMatch(/--seq-len 600 is longer than .* at most 512 tokens/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("a multi-label classifier (problem_type multi_label_classification, like toxic-bert) through the pipeline", () => {
  it("measures label agreement per label at sigmoid 0.5, at every profile shape, and says so in accuracy.json", async () => {
    const model = join(dir, "tiny-multi-label");
    const script = `
import sys, shutil, torch
from transformers import BertConfig, BertForSequenceClassification
torch.manual_seed(0)
labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 num_labels=6, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
                 problem_type="multi_label_classification")
BertForSequenceClassification(cfg).save_pretrained(sys.argv[1])
for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
    shutil.copy(f"${MINILM}/{f}", sys.argv[1])
`;
    const made = spawnSync(join(ROOT, ".venv/bin/python"), ["-c", script, model], {
      encoding: "utf8",
      env: { ...process.env, HF_HUB_OFFLINE: "1" },
    });
    expect(made.status, made.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(model, "config.json"), "utf8"))).toMatchObject({ problem_type: "multi_label_classification" });

    const run = runCli("build-engine", [
      "--model",
      model,
      "--model-id",
      "example/tiny-multi-label",
      "--revision",
      "0000000000000000000000000000000000000000",
      "--task-name",
      "bias",
      "--precision",
      "fp16",
      "--calibrate",
      agNewsCsv(),
      "--held-out",
      "32",
      "--calibration-samples",
      "1",
      "--max-batch",
      "4",
      "--opt-batch",
      "2",
      "--sequence-length",
      "96",
      "--opt-sequence-length",
      "32",
      "--marker",
      "--work-dir",
      join(dir, "work-tiny"),
      "--store-root",
      join(dir, "store-tiny"),
      "--json",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const result = run.json() as { versionPath: string };
    const accuracy = JSON.parse(await readFile(join(result.versionPath, "accuracy.json"), "utf8")) as {
      output: string;
      samples: number;
      label_agreement: number;
      label_decision: string;
      label_threshold: number;
      shape?: { name: string; batch: number; seq_len: number };
    }[];
    expect(accuracy.map((f) => (f.shape ? `${f.shape.name}:${f.shape.batch}x${f.shape.seq_len}` : "held-out"))).toEqual([
      "held-out",
      "min:1x1",
      "opt:2x32",
      "max:4x96",
    ]);
    for (const figure of accuracy) {
      expect(figure).toMatchObject({ output: "logits", label_decision: "sigmoid-threshold", label_threshold: 0.5 });
      expect(figure.label_agreement).toBeGreaterThan(0.5);
    }
    expect(accuracy[0]!.samples).toBe(32);
    const validation = JSON.parse(await readFile(join(result.versionPath, "validation.json"), "utf8")) as {
      shapes: { name: string; batch: number; seq_len: number; passed: boolean }[];
    };
    expect(validation.shapes.map((s) => [s.name, s.batch, s.seq_len, s.passed])).toEqual([
      ["min", 1, 1, true],
      ["opt", 2, 32, true],
      ["max", 4, 96, true],
    ]);
  }, 300_000);
});
