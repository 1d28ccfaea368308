import { spawnSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { MINILM, ROOT } from "../cli-helpers.js";

/**
 * Writes a randomly initialised two-layer BERT news classifier (4 labels, hidden size 32, 4 MB)
 * with MiniLM's tokenizer into `folder`: every pipeline stage runs on it for real in seconds.
 */
export function makeTinyClassifier(folder: string): void {
  const script = `
import sys, shutil, torch
from transformers import BertConfig, BertForSequenceClassification
torch.manual_seed(0)
labels = ["World", "Sports", "Business", "Sci/Tech"]
cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 num_labels=4, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
BertForSequenceClassification(cfg).save_pretrained(sys.argv[1])
for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
    shutil.copy(f"${MINILM}/{f}", sys.argv[1])
`;
  const made = spawnSync(join(ROOT, ".venv/bin/python"), ["-c", script, folder], {
    encoding: "utf8",
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
  });
  if (made.status !== 0) throw new Error(`making the tiny classifier failed: ${made.stderr}`);
}

/** Every path under `root` (relative), folders included; [] when root does not exist. */
export async function listTree(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { recursive: true });
    return entries.map(String).sort();
  } catch {
    return [];
  }
}
