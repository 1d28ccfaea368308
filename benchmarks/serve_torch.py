"""JustNewsAgent's CPU fallback path for benchmarks/serve.mjs: transformers AutoModel + mean pooling
+ L2 normalization (what sentence-transformers runs for all-MiniLM-L6-v2), on the same articles,
batch size and thread count as the ONNX Runtime runs. Prints one JSON line; --emb writes the
sentence embeddings (float32, row-major) for the cosine check against the fp32 ONNX.

    .venv/bin/python benchmarks/serve_torch.py --model DIR --texts texts.jsonl --batch 32 --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--emb")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    texts = [json.loads(line)["text"] for line in open(a.texts, encoding="utf-8") if line.strip()]
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModel.from_pretrained(a.model).eval()

    def embed(batch: list[str]) -> torch.Tensor:
        enc = tokenizer(batch, padding=True, truncation=True, max_length=a.max_length, return_tensors="pt")
        out = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    with torch.inference_mode():
        embed(texts[: a.batch])  # warm-up, as the ONNX runs get
        latencies: list[float] = []
        rows: list[np.ndarray] = []
        start = time.perf_counter()
        for i in range(0, len(texts), a.batch):
            t = time.perf_counter()
            rows.append(embed(texts[i : i + a.batch]).numpy())
            latencies.append((time.perf_counter() - t) * 1000)
        seconds = time.perf_counter() - start
    if a.emb:
        np.concatenate(rows).astype(np.float32).tofile(a.emb)
    lat = np.array(latencies)
    print(json.dumps({
        "articles": len(texts),
        "seconds": seconds,
        "articles_per_s": len(texts) / seconds,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
