"""PyTorch eager on the GPU, the baseline of benchmarks/serve-gpu.mjs (issue 23): transformers AutoModel +
mean pooling + L2 normalization (what sentence-transformers runs for all-MiniLM-L6-v2; JustNewsAgent's
GPU fallback), fp32 and fp16 (model.half()), text in: tokenization (the fast tokenizer) counted, outputs
copied back to the host. One 128-token article alone (p50 over sequential calls) and batches of 32 and
64 over the articles. Then the accuracy check: the embeddings serve-engine returned (--served, float32
[articles, 384] in article order) against PyTorch fp32 on the GPU with TF32 off.

    python3 benchmarks/serve_torch_gpu.py --model DIR --texts articles.jsonl --text128 text.txt \
        --served served.f32 --out torch-gpu.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--text128", required=True, help="a file holding one 128-token article")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--served")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    texts = [json.loads(line)["text"] for line in open(a.texts, encoding="utf-8") if line.strip()][: a.count]
    text128 = open(a.text128, encoding="utf-8").read()
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    dev = torch.device("cuda")
    result: dict = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "articles": len(texts), "runs": []}
    result["text128_tokens_hf"] = len(tokenizer(text128)["input_ids"])

    reference = None
    for dtype in (torch.float32, torch.float16):
        model = AutoModel.from_pretrained(a.model).to(dev).eval()
        if dtype == torch.float16:
            model = model.half()

        def embed(batch: list[str]) -> np.ndarray:
            enc = tokenizer(batch, padding=True, truncation=True, max_length=a.max_length, return_tensors="pt").to(dev)
            out = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled.float(), p=2, dim=1).cpu().numpy()

        name = "fp32" if dtype == torch.float32 else "fp16"
        with torch.inference_mode():
            for _ in range(20):
                embed([text128])
            lat = []
            for _ in range(300):
                t = time.perf_counter()
                embed([text128])
                lat.append((time.perf_counter() - t) * 1000)
            result["runs"].append({"precision": name, "batch": 1, "p50_ms_128": float(np.percentile(lat, 50)), "p99_ms_128": float(np.percentile(lat, 99))})
            for batch in (32, 64):
                for i in range(0, len(texts), batch):
                    embed(texts[i : i + batch])
                torch.cuda.synchronize()
                rows = []
                start = time.perf_counter()
                for _ in range(3):
                    rows = [embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
                seconds = time.perf_counter() - start
                result["runs"].append({"precision": name, "batch": batch, "articles_per_s": 3 * len(texts) / seconds, "seconds": seconds})
                if name == "fp32" and batch == 32:
                    reference = np.concatenate(rows)
        result[f"peak_gpu_bytes_{name}"] = torch.cuda.max_memory_allocated()
        del model
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

    if a.served and reference is not None:
        served = np.fromfile(a.served, dtype=np.float32).reshape(len(texts), -1)
        cos = (served * reference).sum(1) / (np.linalg.norm(served, axis=1) * np.linalg.norm(reference, axis=1))
        result["accuracy_vs_torch_fp32"] = {
            "articles": int(cos.size),
            "cosine_mean": float(cos.mean()),
            "cosine_p1": float(np.percentile(cos, 1)),
            "cosine_min": float(cos.min()),
            "max_abs_diff": float(np.abs(served - reference).max()),
        }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
